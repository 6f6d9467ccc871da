#include "orchestrator/local_shell.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace {

struct Ran {
  pid_t pid = -1;
  int status = 0;
  std::string out;  // what it wrote, stdout and stderr both (our stderr)
};

// Runs the line with our stderr pointed at a file for its length.
Ran run(const std::string& line, const std::filesystem::path& cwd,
        const std::vector<std::pair<std::string, std::string>>& vars, bool own_group) {
  char path[] = "/tmp/pbx-shell-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  const int saved = ::dup(STDERR_FILENO);
  ::dup2(fd, STDERR_FILENO);
  Ran r;
  r.pid = plugbox::orchestrator::start_shell_line(line, cwd, vars, own_group);
  if (r.pid > 0) ::waitpid(r.pid, &r.status, 0);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(fd);
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  r.out = s.str();
  ::unlink(path);
  return r;
}

// The shell's own process group: field 5 of /proc/$$/stat.
const char* kPrintGroup = "cut -d' ' -f5 /proc/$$/stat";

}  // namespace

TEST_CASE("a shell line runs in its directory, with its variables, its stdout on our stderr") {
  const Ran r = run(std::string("echo \"$PBX_A $PBX_B\"; pwd; echo to-stderr >&2"), "/tmp",
                    {{"PBX_A", "one"}, {"PBX_B", "two words"}}, false);
  REQUIRE(r.pid > 0);
  CHECK(WIFEXITED(r.status));
  CHECK(WEXITSTATUS(r.status) == 0);
  CHECK(r.out == "one two words\n/tmp\nto-stderr\n");
}

TEST_CASE("a hook's line has a process group of its own, a prepare line stays in ours") {
  const Ran own = run(kPrintGroup, "", {}, true);
  REQUIRE(own.pid > 0);
  CHECK(own.out == std::to_string(own.pid) + "\n");
  const Ran ours = run(kPrintGroup, "", {}, false);
  REQUIRE(ours.pid > 0);
  CHECK(ours.out == std::to_string(::getpgrp()) + "\n");
}

TEST_CASE("a directory it cannot enter, or a failing line, is its exit status") {
  const Ran missing = run("echo never", "/nonexistent/pbx", {}, false);
  REQUIRE(missing.pid > 0);
  CHECK(WEXITSTATUS(missing.status) == 127);
  CHECK(missing.out.empty());
  const Ran failing = run("exit 4", "", {}, true);
  CHECK(WEXITSTATUS(failing.status) == 4);
}
