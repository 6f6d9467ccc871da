#include <catch2/catch.hpp>

#include <stdio.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "transport/command.h"

using plugbox::transport::Command;

namespace {

// What `sh -c LINE` prints: runs the rendered line through a real POSIX shell.
std::string run_sh(const std::string& line) {
  FILE* p = ::popen(line.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  CHECK(WIFEXITED(status));
  return out;
}

std::vector<std::string> split_nul(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i)
    if (s[i] == '\0') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

}  // namespace

TEST_CASE("argv commands render as quoted words") {
  CHECK(Command::argv({"plugbox-server", "--home", "/srv/my shop", "next-version", "--name", "2026-11-25T21:40:00"})
            .render() == "plugbox-server --home '/srv/my shop' next-version --name 2026-11-25T21:40:00");
  CHECK(Command::argv({"echo", "$HOME", "a'b"}).render() == "echo '$HOME' 'a'\\''b'");
}

TEST_CASE("environment and working directory come before the command") {
  auto c = Command::argv({"./bin/migrate", "--check"});
  c.env("PLUGBOX_VERSION", "2026-11-25T21:40:00").env("PLUGBOX_HOST", "web 01").cwd("/srv/shop/deploy/V");
  CHECK(c.render() ==
        "cd /srv/shop/deploy/V || exit; PLUGBOX_VERSION=2026-11-25T21:40:00 PLUGBOX_HOST='web 01' ./bin/migrate --check");

  auto s = Command::shell("systemctl --user stop shop && sleep 1");
  s.env("PLUGBOX_SERVICE", "shop").cwd("relative dir");
  CHECK(s.render() ==
        "cd './relative dir' || exit; export PLUGBOX_SERVICE=shop; systemctl --user stop shop && sleep 1");
  CHECK(Command::argv({"ls"}).cwd("-odd").render() == "cd ./-odd || exit; ls");
}

TEST_CASE("a first word that would read as an assignment or a keyword is quoted") {
  CHECK(Command::argv({"A=b", "x"}).render() == "'A=b' x");
  CHECK(Command::argv({"if", "x"}).render() == "'if' x");
  CHECK(Command::argv({"x", "A=b", "if"}).render() == "x A=b if");
}

TEST_CASE("invalid commands are refused on construction") {
  CHECK_THROWS_AS(Command::argv({}), std::invalid_argument);
  CHECK_THROWS_AS(Command::shell("  "), std::invalid_argument);
  CHECK_THROWS_AS(Command::argv({std::string("a\0b", 3)}), std::invalid_argument);
  auto c = Command::argv({"true"});
  CHECK_THROWS_WITH(c.env("1BAD", "x"), Catch::Contains("not valid"));
  CHECK_THROWS_AS(c.env("A-B", "x"), std::invalid_argument);
  CHECK_THROWS_AS(c.cwd(""), std::invalid_argument);
}

TEST_CASE("odd words survive a round trip through a real sh") {
  std::vector<std::string> odd = {
      "",        " ",          "two words", "it's",    "\"double\"", "$HOME",   "$(id)",  "`id`",
      "a\\b",    "back\\",     "new\nline", "tab\there", "*",       "?",       "[a-z]",  "~",
      "~root",   "#comment",   "!",         "{a,b}",   ";",         "&&",      "|",      "> /tmp/x",
      "-n",      "--",         "A=b",       "if",      "héllo wörld", "\x01\x7f\xff", "'", "''",
      "%s",      "\\0",        "end'",
  };
  std::string all_bytes;
  for (int c = 1; c < 256; ++c) all_bytes += static_cast<char>(c);
  odd.push_back(all_bytes);

  std::vector<std::string> argv = {"printf", "%s\\0"};
  argv.insert(argv.end(), odd.begin(), odd.end());
  auto c = Command::argv(argv);
  c.env("ODD", "x'y $z").cwd("/");
  CHECK(split_nul(run_sh(c.render())) == odd);

  // The environment value and the directory arrive as written too.
  auto e = Command::argv({"sh", "-c", "printf '%s|%s' \"$ODD\" \"$PWD\""});
  e.env("ODD", "x'y $z \"q\"\n").cwd("/tmp");
  CHECK(run_sh(e.render()) == "x'y $z \"q\"\n|/tmp");
}

TEST_CASE("a failing cd stops the command") {
  auto c = Command::argv({"echo", "ran"});
  c.cwd("/nonexistent/plugbox-dir");
  CHECK(run_sh("{ " + c.render() + "\n} 2>/dev/null") == "");
  auto s = Command::shell("echo ran; echo again");
  s.cwd("/nonexistent/plugbox-dir");
  CHECK(run_sh("{ " + s.render() + "\n} 2>/dev/null") == "");
}
