// `plugbox inventory check | list | graph`, run as a user runs them: the built
// binary (PLUGBOX_BIN), its stdout, stderr and exit status.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/inventory/support.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using plugbox::inventory::test::TempDir;

const fs::path kExamples = fs::path(PLUGBOX_SOURCE_DIR) / "examples" / "inventories";

struct Run {
  int status = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs plugbox with `args` in `cwd`; PLUGBOX_INVENTORY is set to `env_inventory`, or removed when empty.
Run run_plugbox(const std::vector<std::string>& args, const fs::path& cwd, const std::string& env_inventory = "") {
  TempDir io;
  const fs::path out = io.path() / "out", err = io.path() / "err";
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).rfind("PLUGBOX_INVENTORY=", 0) != 0) env_strings.emplace_back(*e);
  if (!env_inventory.empty()) env_strings.push_back("PLUGBOX_INVENTORY=" + env_inventory);
  std::vector<char*> envp, argv{const_cast<char*>(PLUGBOX_BIN)};
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_copy = args;
  for (auto& a : arg_copy) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || chdir(cwd.c_str()) != 0) _exit(127);
    execve(PLUGBOX_BIN, argv.data(), envp.data());
    _exit(127);
  }
  int wstatus = 0;
  REQUIRE(waitpid(pid, &wstatus, 0) == pid);
  Run r;
  r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace

TEST_CASE("check: a good inventory prints a summary and exits 0", "[cli]") {
  const std::string file = (kExamples / "fleet.toml").string();
  Run r = run_plugbox({"-i", file, "inventory", "check"}, kExamples);
  CHECK(r.status == 0);
  CHECK(r.out == file + ": ok: 31 hosts (3 bastions), 5 groups\n");
  CHECK(r.err.empty());
}

TEST_CASE("check: every problem on stderr as FILE:LINE:COL, exit 2, nothing on stdout", "[cli]") {
  TempDir dir;
  std::ofstream(dir.path() / "inventory.toml") << R"([hosts.alpha]
jump = "beta"
[hosts.beta]
jump = "alpha"
[hosts.web1]
jump = "bastoin"
[hosts.bastion]
host_key_check = "off"
)";
  Run r = run_plugbox({"inventory", "check"}, dir.path());  // ./inventory.toml by default
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "inventory.toml:2:8: jump cycle: alpha -> beta -> alpha (each jumps through the next)\n"
        "inventory.toml:6:8: host 'web1' jumps through unknown host 'bastoin'; did you mean 'bastion'?\n"
        "inventory.toml:8:18: warning: host_key_check = \"off\" in host 'bastion': host keys are not checked at all "
        "(for tests only)\n");
}

TEST_CASE("check: warnings alone go to stderr and the status stays 0", "[cli]") {
  TempDir dir;
  std::ofstream(dir.path() / "test.toml") << "[defaults]\nhost_key_check = \"off\"\n[hosts.a]\n";
  Run r = run_plugbox({"inventory", "check", "-i", "test.toml"}, dir.path());  // -i after the command works too
  CHECK(r.status == 0);
  CHECK(r.out == "test.toml: ok: 1 hosts (0 bastions), 0 groups, 1 warning\n");
  CHECK(r.err ==
        "test.toml:2:18: warning: host_key_check = \"off\" in [defaults]: host keys are not checked at all (for tests "
        "only)\n");
}

TEST_CASE("a TOML syntax error is one FILE:LINE:COL line and exit 2", "[cli]") {
  TempDir dir;
  std::ofstream(dir.path() / "inv.toml") << "[hosts.a]\nport = 22 22\n";
  Run r = run_plugbox({"-i", "inv.toml", "inventory", "list"}, dir.path());
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("inv.toml:2:11: TOML syntax error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("the inventory comes from -i, else $PLUGBOX_INVENTORY, else ./inventory.toml", "[cli]") {
  TempDir dir;
  std::ofstream(dir.path() / "inventory.toml") << "[hosts.from-cwd]\n";
  std::ofstream(dir.path() / "env.toml") << "[hosts.from-env]\n";
  std::ofstream(dir.path() / "cli.toml") << "[hosts.from-cli]\n";
  const std::string env = (dir.path() / "env.toml").string();
  CHECK(run_plugbox({"inventory", "list"}, dir.path()).out.find("from-cwd") != std::string::npos);
  CHECK(run_plugbox({"inventory", "list"}, dir.path(), env).out.find("from-env") != std::string::npos);
  CHECK(run_plugbox({"-i", "cli.toml", "inventory", "list"}, dir.path(), env).out.find("from-cli") != std::string::npos);

  Run missing = run_plugbox({"-i", "nope.toml", "inventory", "graph"}, dir.path(), env);
  CHECK(missing.status == 2);
  CHECK(missing.out.empty());
  CHECK(missing.err ==
        "plugbox: no inventory: tried 'nope.toml' (given with -i), which does not exist; pass -i FILE or set "
        "$PLUGBOX_INVENTORY\n");
  TempDir empty;
  Run none = run_plugbox({"inventory", "check"}, empty.path());
  CHECK(none.status == 2);
  CHECK(none.err ==
        "plugbox: no inventory: tried 'inventory.toml' (no -i was given and $PLUGBOX_INVENTORY is not set), which "
        "does not exist; pass -i FILE or set $PLUGBOX_INVENTORY\n");
}

TEST_CASE("list prints a table of the hosts, and --group and --host select", "[cli]") {
  Run r = run_plugbox({"-i", "small.toml", "inventory", "list"}, kExamples);
  CHECK(r.status == 0);
  CHECK(r.out ==
        "NAME  ADDRESS    PORT  USER  JUMP  GROUPS\n"
        "app1  10.1.0.1   22    shop  -     all,app\n"
        "app2  10.1.0.2   22    shop  -     all,app\n"
        "app3  10.1.0.3   22    shop  -     all,app\n"
        "db1   10.1.0.50  2222  shop  -     all,db\n");
  Run sel = run_plugbox({"-i", "fleet.toml", "inventory", "list", "--group", "canary", "--host", "api1,bastion-*"},
                    kExamples);
  CHECK(sel.status == 0);
  CHECK(sel.out ==
        "NAME        ADDRESS            PORT  USER  JUMP              GROUPS\n"
        "bastion-eu  10.0.0.5           22    jump  edge              bastions\n"
        "bastion-us  198.51.100.7       2222  jump  -                 bastions\n"
        "web01       web01.eu.internal  22    shop  edge->bastion-eu  canary,prod,web\n"
        "api1        api1.us.internal   22    shop  bastion-us        api,prod\n");
}

TEST_CASE("list --json: an array with the docs/DESIGN.md §4 fields", "[cli]") {
  Run r = run_plugbox({"-i", "fleet.toml", "inventory", "list", "--json", "--group", "web"}, kExamples);
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 24);
  const auto& w = j[6];
  CHECK(w["name"] == "web07");
  CHECK(w["address"] == "web07.eu.internal");
  CHECK(w["port"] == 22);
  CHECK(w["user"] == "shop");
  CHECK(w["jump_chain"] == nlohmann::json::array({"edge", "bastion-eu"}));
  CHECK(w["groups"] == nlohmann::json::array({"prod", "web"}));
  CHECK(w["home"] == "/srv/shop");
  CHECK(w["server"] == "/opt/plugbox/bin/plugbox-server");
  CHECK(w["host_key_check"] == "strict");
  CHECK(w["transport"] == "ssh");
  CHECK(w["vars"] == nlohmann::json{{"region", "eu"}});
}

TEST_CASE("list: an unknown group is exit 2 with a did-you-mean", "[cli]") {
  Run r = run_plugbox({"-i", "fleet.toml", "inventory", "list", "--group", "wbe"}, kExamples);
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err == "fleet.toml: unknown group 'wbe'; did you mean 'web'?\n");
}

TEST_CASE("graph: DOT with hosts, groups and jump edges", "[cli]") {
  Run r = run_plugbox({"-i", "fleet.toml", "inventory", "graph"}, kExamples);
  CHECK(r.status == 0);
  CHECK(r.out.rfind("digraph inventory {\n", 0) == 0);
  CHECK(r.out.find("  \"h:edge\" -> \"h:bastion-eu\" [label=\"jump\"];\n") != std::string::npos);
  CHECK(r.out.find("  \"h:bastion-eu\" -> \"h:web24\" [label=\"jump\"];\n") != std::string::npos);
  CHECK(r.out.find("  \"g:prod\" -> \"g:web\" [style=dashed];\n") != std::string::npos);
  CHECK(r.out.find("  \"g:web\" [label=\"web\", shape=folder];\n") != std::string::npos);
  CHECK(r.out.substr(r.out.size() - 2) == "}\n");
}

TEST_CASE("every inventory command has --help, and a missing or mistyped one is exit 2", "[cli]") {
  for (const char* cmd : {"check", "list", "graph"}) {
    INFO(cmd);
    Run r = run_plugbox({"inventory", cmd, "--help"}, kExamples);
    CHECK(r.status == 0);
    CHECK(r.out.find(std::string("inventory ") + cmd) != std::string::npos);
  }
  Run list_help = run_plugbox({"inventory", "list", "--help"}, kExamples);
  CHECK(list_help.out.find("--json") != std::string::npos);
  CHECK(list_help.out.find("--group") != std::string::npos);
  Run inv_help = run_plugbox({"inventory", "--help"}, kExamples);
  CHECK(inv_help.status == 0);
  CHECK(inv_help.out.find("graph") != std::string::npos);

  Run bare = run_plugbox({"inventory"}, kExamples);
  CHECK(bare.status == 2);
  Run typo = run_plugbox({"inventory", "lst"}, kExamples);
  CHECK(typo.status == 2);
  CHECK(typo.err.find("did you mean 'list'?") != std::string::npos);
}

TEST_CASE("plugbox --version prints the release, the commit and the host protocols, exit 0", "[cli]") {
  TempDir cwd;
  Run r = run_plugbox({"--version"}, cwd.path());
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::Matches("plugbox [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit ([0-9a-f]+(-dirty)?|unknown)\\)\n"
                                   "host protocols: upload 2, session 1\n"));
  CHECK(r.err.empty());
}

TEST_CASE("list --origin: each value and the inventory or ssh config line it came from", "[cli]") {
  TempDir dir;
  std::ofstream(dir.path() / "ssh_config") << "Host web01\n  HostName 10.0.0.1\n  User alice\n  ProxyJump gw\n"
                                              "Host gw\n  HostName 192.0.2.9\n  Port 2222\n";
  // A relative ssh_config is next to the inventory, like every other path in it.
  std::ofstream(dir.path() / "inv.toml") << "[defaults]\nssh_config = \"ssh_config\"\n[hosts.web01]\nport = 2201\n";
  const std::string cfg = (dir.path() / "ssh_config").string();
  Run r = run_plugbox({"-i", "inv.toml", "inventory", "list", "--origin"}, dir.path());
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out == "web01\n"
                 "  address         10.0.0.1  " + cfg + ":2\n"
                 "  port            2201      inv.toml:4:8\n"
                 "  user            alice     " + cfg + ":3\n"
                 "  identity        -         default\n"
                 "  known_hosts     -         default\n"
                 "  jump            gw        " + cfg + ":4\n"
                 "  home            -         default\n"
                 "  server          -         default\n"
                 "  host_key_check  strict    default\n"
                 "  transport       ssh       default\n"
                 "gw  (jump host from an ssh config's ProxyJump)\n"
                 "  address         192.0.2.9  " + cfg + ":6\n"
                 "  port            2222       " + cfg + ":7\n"
                 "  user            -          default\n"
                 "  identity        -          default\n"
                 "  known_hosts     -          default\n"
                 "  jump            -          default\n"
                 "  home            -          default\n"
                 "  server          -          default\n"
                 "  host_key_check  strict     default\n"
                 "  transport       ssh        default\n");
  std::ofstream(dir.path() / "ssh_config") << "Host web01\n  ProxyCommand nc %h %p\n";
  Run bad = run_plugbox({"-i", "inv.toml", "inventory", "list"}, dir.path());
  CHECK(bad.status == 2);
  CHECK(bad.out.empty());
  CHECK(bad.err == cfg + ":2: plugbox does not support ProxyCommand (for host 'web01'): use ProxyJump, or set the "
                         "host's jump in the inventory (host 'web01', ssh_config at inv.toml:2:14)\n");
}
