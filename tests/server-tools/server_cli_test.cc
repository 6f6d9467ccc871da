// The command line: every bad input gets one line naming the problem and the
// fix, the right exit status, and changes nothing on disk.
#include "server-tools/server_cli.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

namespace {

struct BadCase {
  std::vector<std::string> args;
  int rc;
  std::string message;  // a part of the one line on stderr
};

void check_one_line_refusal(const fs::path& root, const fs::path& home, const BadCase& c,
                            std::map<std::string, std::string> env = {}) {
  std::string shown;
  for (auto& a : c.args) shown += a + " ";
  INFO("args: " << shown);
  const Snapshot before = snapshot(root);
  CliResult r = cli(home, c.args, env);
  INFO(describe(r));
  CHECK(r.rc == c.rc);
  CHECK(r.out.empty());
  CHECK(r.err.find(c.message) != std::string::npos);
  REQUIRE(!r.err.empty());
  CHECK(r.err.find('\n') == r.err.size() - 1);  // exactly one line
  CHECK(r.err.rfind("plugbox-server", 0) == 0);
  CHECK(snapshot_diff(before, snapshot(root)) == "");
}

}  // namespace

TEST_CASE("bad input: exit 2, one line, nothing changed", "[cli]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2), c = vname(3);
  deploy(home, a);
  deploy(home, b);
  stage(home, c);

  const std::vector<BadCase> cases = {
      {{"seal", "2026-13-01T00:00:00"}, 2, "'2026-13-01T00:00:00' is not a version name (month 13 does not exist)"},
      {{"upgrade-to", "../" + a}, 2, "is not a version name (not of the form YYYY-MM-DDTHH:MM:SS)"},
      {{"rollback-to", "latest"}, 2, "'latest' is not a version name"},
      {{"remove", "2026-02-30T00:00:00"}, 2, "2026-02-30 is not a calendar date"},
      {{"verify", "x"}, 2, "'x' is not a version name"},
      {{"next-version", "--name", "2026-11-25 21:40:00"}, 2, "is not a version name"},
      {{"next-version", "--by", "alice\nbob"}, 2, "--by holds a control character"},
      {{"next-version", "--source-rev", std::string(300, 'f')}, 2, "--source-rev is longer than 256 characters"},
      {{"gc", "--keep", "1"}, 2, "gc --keep 1 would leave nothing to roll back to: keep at least 2"},
      {{"gc", "--keep", "0", "--dry-run"}, 2, "keep at least 2"},
      {{"gc", "--keep", "-3"}, 2, "keep at least 2"},
      {{"gc", "--keep", "many"}, 2, "see `plugbox-server gc --help`"},
      {{"--wait", "nan", "gc", "--keep", "2"}, 2, "--wait: not a number of seconds"},
      {{"gc"}, 2, "--keep is required"},
      {{"seal"}, 2, "V is required; see `plugbox-server seal --help`"},
      {{"remove"}, 2, "remove needs a version: remove V (or -v V)"},
      {{"remove", a, "-v", b}, 2, "remove got two different versions"},
      {{"upgrade-to", a, b}, 2, "see `plugbox-server upgrade-to --help`"},
      {{"status", "--colour"}, 2, "--colour"},
      {{"upgrde-to", b}, 2, "unknown command 'upgrde-to' (did you mean 'upgrade-to'?)"},
      {{"rollback", b}, 2, "unknown command 'rollback' (did you mean 'rollback-to'?)"},
      {{"frobnicate"}, 2, "unknown command 'frobnicate'; `plugbox-server --help` lists the commands"},
      {{}, 2, "A subcommand is required"},
      {{"--wait", "-1", "upgrade-to", b}, 2, "--wait"},
      {{"--owner", "a\tb", "upgrade-to", b}, 2, "--owner: the owner id holds a control character"},
      {{"--owner", "", "upgrade-to", b}, 2, "--owner: the owner id is empty"},
      {{"lock"}, 2, "lock needs an owner id: lock --owner ID (or set PLUGBOX_LOCK_OWNER)"},
      // Refusals: well-formed, but this host's state says no.
      {{"upgrade-to", c}, 1, "version " + c + " is staged, not ready: seal it"},
      {{"upgrade-to", vname(9)}, 1, "no version " + vname(9) + " in " + (home / "deploy").string()},
      {{"rollback-to", vname(9)}, 1, "no version " + vname(9)},
      {{"seal", vname(9)}, 1, "no version " + vname(9)},
      {{"remove", b}, 1, "version " + b + " is live and cannot be removed"},
      {{"remove", vname(9)}, 1, "no version " + vname(9)},
      {{"verify", vname(9)}, 1, "no version " + vname(9)},
      {{"next-version", "--name", a}, 1, "version " + a + " exists (ready)"},
      {{"rollback-to", c}, 1, "is staged, not ready"},
  };
  for (const auto& bc : cases) check_one_line_refusal(t.path(), home, bc);
}

TEST_CASE("bad input: a home that is not a plugbox layout", "[cli]") {
  TempDir t;
  fs::create_directories(t.path() / "plain/deploy");
  std::ofstream(t.path() / "plain/deploy/old-release.tar") << "x";
  for (std::string cmd : {"status", "next-version", "seal", "upgrade-to", "rollback-to", "remove", "gc",
                                 "lock", "verify"}) {
    std::vector<std::string> args{cmd};
    if (cmd == "seal" || cmd == "upgrade-to" || cmd == "remove" || cmd == "verify") args.push_back(vname(1));
    if (cmd == "gc") args.insert(args.end(), {"--keep", "3"});
    if (cmd == "lock") args.insert(args.end(), {"--owner", "me"});
    check_one_line_refusal(t.path(), t.path() / "plain",
                           {args, 2, "is not a plugbox layout (no deploy/.plugbox/versions/): run `plugbox-server --home " +
                                         (t.path() / "plain").string() + " init` first"});
  }
  check_one_line_refusal(t.path(), t.path() / "missing", {{"status"}, 2, "is not a directory, so not a plugbox layout"});
  check_one_line_refusal(t.path(), t.path() / "plain",
                         {{"init"}, 2, "deploy exists, is not empty and has no .plugbox/"});
  check_one_line_refusal(t.path(), t.path() / "no/such/parent",
                         {{"init"}, 2, "does not exist and neither does its parent"});
}

TEST_CASE("a home never deployed to: status answers, every other command keeps refusing", "[cli]") {
  TempDir t;
  const fs::path home = t.path() / "fresh";
  fs::create_directories(home);
  CliResult r = cli(home, {"status"});
  CHECK(r.rc == 0);
  CHECK(r.out == home.string() + ": nothing was deployed here yet (no deploy/.plugbox/)\n");
  CHECK(r.err.empty());
  for (std::string cmd : {"next-version", "seal", "upgrade-to", "rollback-to", "remove", "gc", "lock", "verify"}) {
    std::vector<std::string> args{cmd};
    if (cmd == "seal" || cmd == "upgrade-to" || cmd == "remove" || cmd == "verify") args.push_back(vname(1));
    if (cmd == "gc") args.insert(args.end(), {"--keep", "3"});
    if (cmd == "lock") args.insert(args.end(), {"--owner", "me"});
    check_one_line_refusal(t.path(), home,
                           {args, 2, "is not a plugbox layout (no deploy/.plugbox/versions/): run `plugbox-server --home " +
                                         home.string() + " init` first"});
  }
}

TEST_CASE("the home comes from --home, else $HOME", "[cli]") {
  TempDir t;
  const auto home = t.path() / "h";
  CliResult r = cli("", {"init"}, {{"HOME", home.string()}});
  REQUIRE(r.rc == 0);
  CHECK(r.out == "initialised " + home.string() + " (created 11 entries)\n");
  r = cli("", {"status"}, {});
  CHECK(r.rc == 2);
  CHECK(r.err == "plugbox-server status: no home: pass --home DIR or set HOME\n");
  // Global options may also follow the command.
  r = cli("", {"status", "--home", home.string()}, {});
  CHECK(r.rc == 0);
  CHECK(r.out.find("live:  (none)") != std::string::npos);
}

TEST_CASE("help on every command, exit 0", "[cli]") {
  CliResult r = cli("", {"--help"});
  CHECK(r.rc == 0);
  CHECK(r.out.find("Usage: plugbox-server [OPTIONS] SUBCOMMAND") != std::string::npos);
  CHECK(r.out.find("Exit status: 0 done, 1 refused") != std::string::npos);
  for (std::string cmd : {"init", "next-version", "seal", "upgrade-to", "rollback-to", "remove", "gc",
                                 "status", "lock", "verify"}) {
    INFO(cmd);
    r = cli("", {cmd, "--help"});
    CHECK(r.rc == 0);
    CHECK(r.err.empty());
    CHECK(r.out.find("Usage: plugbox-server " + cmd) != std::string::npos);
    CHECK(r.out.find("Print this help message") != std::string::npos);
    CHECK(r.out.find("--home") != std::string::npos);  // the global options are shown too
  }
  CHECK(cli("", {"gc", "--help"}).out.find("--keep") != std::string::npos);
  CHECK(cli("", {"next-version", "--help"}).out.find("--source-rev") != std::string::npos);
  CHECK(cli("", {"status", "--help"}).out.find("--json") != std::string::npos);
}

TEST_CASE("init through the CLI is idempotent", "[cli]") {
  TempDir t;
  const auto home = t.path() / "h";
  REQUIRE(cli(home, {"init"}).rc == 0);
  const Snapshot before = snapshot(t.path());
  CliResult r = cli(home, {"init"});
  CHECK(r.rc == 0);
  CHECK(r.out == home.string() + ": already initialised\n");
  CHECK(snapshot(t.path()) == before);
}

TEST_CASE("plugbox-server --version prints the release, the commit and the upload protocol, exit 0, `remove --version V` is still a version",
          "[cli]") {
  TempDir t;
  CliResult r = cli(t.path(), {"--version"});
  INFO(describe(r));
  CHECK(r.rc == 0);
  CHECK_THAT(r.out, Catch::Matches("plugbox-server [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit ([0-9a-f]+(-dirty)?|unknown)\\)\n"
                                   "host protocols: upload 2, session 1\n"));
  CHECK(r.err.empty());
  // As an option of remove it names the version to remove (here: a bad one).
  CliResult rm = cli(t.path(), {"remove", "--version", "x"});
  CHECK(rm.rc == 2);
  CHECK_THAT(rm.err, Catch::Contains("'x' is not a version name"));
}
