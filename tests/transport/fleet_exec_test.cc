// `plugbox fleet exec` end to end: the real binary, an inventory from the sshd
// harness, hosts behind a bastion.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/harness/fleet_or_skip.h"
#include "tests/transport/test_util.h"

extern char** environ;

namespace {

using plugbox::transport::test::TempDir;

struct Ran {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs plugbox with `args` in an empty directory (no plugbox.toml there),
// stdout and stderr to files.
Ran run_plugbox(const std::vector<std::string>& args) {
  TempDir dir("cli");
  std::vector<std::string> argv = {PLUGBOX_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  std::string out = dir.str() + "/out", err = dir.str() + "/err";
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addchdir_np(&fa, dir.str().c_str());
  pid_t pid;
  REQUIRE(posix_spawn(&pid, PLUGBOX_BIN, &fa, nullptr, cargv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  ::waitpid(pid, &status, 0);
  Ran r;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace

TEST_CASE("fleet exec runs the command on every selected host through its jump chain") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"bastion"}, {"web01", "bastion", {"web"}}, {"web02", "bastion", {"web"}}, {"db"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  const std::string inv = fleet->inventory_path();

  // Several words: an argv, each word passed as is (the quote survives).
  auto r = run_plugbox({"-i", inv, "fleet", "exec", "--group", "leaves", "--", "sh", "-c",
                    "echo \"it's $HOME\"; echo warn >&2"});
  INFO(r.err);
  CHECK(r.status == 0);
  for (const char* h : {"web01", "web02", "db"}) {
    std::string name = std::string(h) + std::string(5 - std::strlen(h), ' ');
    CHECK_THAT(r.out, Catch::Contains(name + " | it's " + fleet->host(h).home + "\n"));
    CHECK_THAT(r.err, Catch::Contains(name + " | warn\n"));
  }
  CHECK_THAT(r.err, Catch::Contains("3 hosts: 3 ok\n"));
  CHECK(fleet->accepted_connections("bastion") == 1);

  // One word: a shell line. Exit 1 when a host's command fails; the summary
  // names it.
  auto f = run_plugbox({"-i", inv, "fleet", "exec", "--host", "db,web0*", "--", "echo a; test \"$HOME\" != " +
                                                                              fleet->host("web02").home});
  CHECK(f.status == 1);
  CHECK_THAT(f.out, Catch::Contains("db    | a\n"));
  CHECK_THAT(f.err, Catch::Contains("3 hosts: 2 ok, 1 failed\n  web02: exit 1\n"));
}

TEST_CASE("fleet exec reports unreachable hosts and carries on with the others") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"bastion"}, {"web01", "bastion"}, {"web02", "bastion"}, {"db"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  fleet->stop_host("web02");
  fleet->stop_host("db");
  auto r = run_plugbox({"-i", fleet->inventory_path(), "fleet", "exec", "--group", "all", "--parallel", "2", "--timeout",
                    "20", "--", "true"});
  CHECK(r.status == 1);
  CHECK_THAT(r.err, Catch::Contains("4 hosts: 2 ok, 2 failed\n"));
  CHECK_THAT(r.err, Catch::Contains("  web02: connect: jump host could not reach the next hop: through bastion"));
  CHECK_THAT(r.err, Catch::Contains("  db: connect: Connection refused"));
}

TEST_CASE("fleet exec refuses bad input before running anything") {
  plugbox::testing::FleetOptions fo;
  fo.hosts = {{"web01"}};
  PLUGBOX_FLEET_OR_SKIP(fleet, fo);
  const std::string inv = fleet->inventory_path();
  const std::string marker = fleet->host("web01").home + "/ran";
  auto no_hosts = run_plugbox({"-i", inv, "fleet", "exec", "--", "touch", marker});
  CHECK(no_hosts.status == 2);
  CHECK_THAT(no_hosts.err, Catch::Contains("choose the hosts"));
  auto unknown = run_plugbox({"-i", inv, "fleet", "exec", "--group", "nosuch", "--", "touch", marker});
  CHECK(unknown.status == 2);
  CHECK_THAT(unknown.err, Catch::Contains("nosuch"));
  auto no_command = run_plugbox({"-i", inv, "fleet", "exec", "--group", "all"});
  CHECK(no_command.status == 2);
  CHECK_THAT(no_command.err, Catch::Contains("give the command after --"));
  CHECK_FALSE(std::filesystem::exists(marker));
}
