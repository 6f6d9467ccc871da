// plugbox's own server on hosts (orchestrator/server_install.h): the builds it
// carries, the commands as strings, the install scripts run for real by
// /bin/sh here, and ensure_server's branches over scripted hosts.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <sstream>

#include "base/build_info.h"
#include "orchestrator/host_conn.h"
#include "orchestrator/server_install.h"
#include "tests/orchestrator/scripted_fleet.h"
#include "upload/common/sha256.h"

using namespace plugbox::orchestrator;
using namespace plugbox::orchestrator::test;
using plugbox::transport::Command;
using plugbox::transport::Exit;
using plugbox::transport::Reply;
using plugbox::transport::ScriptedExec;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/plugbox-install-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write(const fs::path& p, const std::string& bytes, fs::perms perms = fs::perms(0644)) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
  fs::permissions(p, perms);
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string hex_sha(const std::string& bytes) { return plugbox::upload::to_hex(plugbox::upload::sha256(bytes)); }

// A "binary" that is a script naming itself `identity`: what the put script
// runs to check what arrived.
std::string fake_server(const std::string& identity) {
  return "#!/bin/sh\necho '" + identity + "'\necho 'host protocols: upload 2, session 1'\n";
}

struct ShellResult {
  int status = -1;
  std::string out, err;
};

// Runs a command value the way a host's shell does: its rendered line by
// /bin/sh, `input` on its stdin.
ShellResult run_here(const Command& c, const std::string& input, const fs::path& scratch) {
  static int n = 0;
  const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(n++);
  const fs::path in = scratch / ("in-" + tag), out = scratch / ("out-" + tag), err = scratch / ("err-" + tag);
  write(in, input);
  const std::string line = "( " + c.render() + " ) < '" + in.string() + "' > '" + out.string() + "' 2> '" +
                           err.string() + "'";
  const int raw = std::system(line.c_str());
  ShellResult r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read(out), read(err)};
  fs::remove(in);
  fs::remove(out);
  fs::remove(err);
  return r;
}

HostContext ctx_at(const fs::path& home) {
  HostContext h;
  h.host = "web1";
  h.home = home.string();
  h.server = installed_server_path(h.home);
  h.owner = "owner-1";
  h.server_source = ServerSource::installed;
  return h;
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("install: the tag, identity and path name this build") {
  CHECK(server_tag() == std::string(plugbox::base::release_version()) + "-" + plugbox::base::build_commit());
  CHECK(server_identity() == "plugbox-server " + std::string(plugbox::base::release_version()) + " (commit " +
                                 plugbox::base::build_commit() + ")");
  CHECK(installed_server_path("/home/shop") == "/home/shop/.plugbox/servers/" + server_tag() + "/plugbox-server");
  CHECK(normalise_arch("x86_64") == "x86_64");
  CHECK(normalise_arch("amd64") == "x86_64");
  CHECK(normalise_arch("arm64") == "aarch64");
  CHECK(normalise_arch("riscv64") == "riscv64");
}

TEST_CASE("install: the planner gives an unpinned host plugbox's own server, a pinned one its own") {
  auto inv = plugbox::inventory::Inventory::parse(R"(
[defaults]
user = "shop"
[hosts.a]
[hosts.b]
server = "/opt/pb/plugbox-server"
[hosts.c]
server_install = false
)",
                                                  "inventory.toml");
  auto a = plan_host(inv, *inv.find("a"), "shop", "o");
  CHECK(a.ctx.server == "/home/shop/.plugbox/servers/" + server_tag() + "/plugbox-server");
  CHECK(a.ctx.server_source == ServerSource::installed);
  auto b = plan_host(inv, *inv.find("b"), "shop", "o");
  CHECK(b.ctx.server == "/opt/pb/plugbox-server");
  CHECK(b.ctx.server_source == ServerSource::pinned);
  auto c = plan_host(inv, *inv.find("c"), "shop", "o");
  CHECK(c.ctx.server == a.ctx.server);
  CHECK(c.ctx.server_source == ServerSource::bootstrap);
}

TEST_CASE("install: a server_install that is not a boolean is one clear line") {
  try {
    plugbox::inventory::Inventory::parse("[defaults]\nserver_install = \"no\"\n", "inventory.toml");
    FAIL("parsed");
  } catch (const plugbox::inventory::InventoryError& e) {
    REQUIRE(e.diagnostics().size() == 1);
    CHECK(e.diagnostics()[0].str() ==
          "inventory.toml:2:18: 'server_install' of [defaults] must be true or false, not a string");
  }
}

TEST_CASE("install: the builds are found per architecture, read once, and a missing one says what there is") {
  TempDir d;
  write(d.path / "x86_64" / "plugbox-server", "x86 bytes");
  write(d.path / "aarch64" / "plugbox-server", "arm bytes");
  fs::create_directories(d.path / "empty");
  ServerBuilds b(d.path);
  CHECK(b.arches() == std::vector<std::string>{"aarch64", "x86_64"});
  std::string why;
  auto arm = b.binary("arm64", &why);
  REQUIRE(arm);
  CHECK(arm->arch == "aarch64");
  CHECK(*arm->bytes == "arm bytes");
  CHECK(arm->sha256 == hex_sha("arm bytes"));
  CHECK(b.binary("aarch64", &why) == arm);  // loaded once, shared
  CHECK_FALSE(b.binary("riscv64", &why));
  CHECK(why == "this plugbox has no plugbox-server build for riscv64 (it has: aarch64, x86_64, in " +
                   d.path.string() + ")");
  CHECK_FALSE(b.binary("../x86_64", &why));  // no climbing out of the directory
  CHECK_FALSE(b.binary("", &why));
}

TEST_CASE("install: PLUGBOX_SERVERS chooses the builds' directory") {
  TempDir d;
  ::setenv("PLUGBOX_SERVERS", d.path.c_str(), 1);
  CHECK(ServerBuilds::default_dir() == d.path);
  CHECK(ServerBuilds::local().dir() == d.path);
  ::unsetenv("PLUGBOX_SERVERS");
  // Without it: beside the executable (the build tree's servers/ here: no
  // lib/plugbox/servers beside this test).
  const fs::path exe = fs::read_symlink("/proc/self/exe");
  CHECK(ServerBuilds::default_dir() == (exe.parent_path() / ".." / "servers").lexically_normal());
  // No directory: no builds, and never a path relative to the current one.
  std::string why;
  CHECK_FALSE(ServerBuilds("").binary("x86_64", &why));
  CHECK_THAT(why, Catch::Contains("cannot tell where it is installed"));
}

TEST_CASE("install: the commands are values, every path an argument") {
  HostContext h = ctx_at("/srv/my shop");
  CHECK(install_cmd::version(h).render() ==
        "'/srv/my shop/.plugbox/servers/" + server_tag() + "/plugbox-server' --version");
  // Its words and the session's: the path is one word.
  CHECK(server_cmd::session(h).words().front() == "/srv/my shop/.plugbox/servers/" + server_tag() + "/plugbox-server");
  h.server = "sudo -u shop plugbox-server";
  h.server_source = ServerSource::pinned;
  CHECK(install_cmd::version(h).words() == std::vector<std::string>{"sudo", "-u", "shop", "plugbox-server", "--version"});
  CHECK(install_cmd::arch(h).render() == "uname -m");
  const auto probe = install_cmd::probe(h);
  REQUIRE(probe.words().size() == 5);
  CHECK(probe.words()[0] == "sh");
  CHECK(probe.words()[3] == "plugbox-install");
  CHECK(probe.words()[4] == "/srv/my shop/.plugbox/servers/" + server_tag());
  const auto put = install_cmd::put(h, "abc", "plugbox-server 9 (commit x)");
  CHECK(std::vector<std::string>(put.words().begin() + 3, put.words().end()) ==
        std::vector<std::string>{"plugbox-install", "/srv/my shop/.plugbox/servers/" + server_tag(), "abc",
                                 "plugbox-server 9 (commit x)"});
  const auto gc = install_cmd::remove_others(h, false);
  CHECK(std::vector<std::string>(gc.words().begin() + 4, gc.words().end()) ==
        std::vector<std::string>{"/srv/my shop/.plugbox/servers", server_tag(), plugbox::base::release_version(),
                                 "remove"});
}

TEST_CASE("install: the probe says the architecture and makes the version's directory") {
  TempDir d;
  const HostContext h = ctx_at(d.path / "home");
  auto r = run_here(install_cmd::probe(h), "", d.path);
  CHECK(r.status == 0);
  CHECK_FALSE(r.out.empty());
  CHECK(fs::is_directory(fs::path(h.home) / ".plugbox" / "servers" / server_tag()));
}

TEST_CASE("install: put checks the bytes, that the binary runs and names itself, then renames it into place") {
  TempDir d;
  const HostContext h = ctx_at(d.path / "home");
  REQUIRE(run_here(install_cmd::probe(h), "", d.path).status == 0);
  const fs::path dir = fs::path(h.home) / ".plugbox" / "servers" / server_tag();
  const std::string want = "plugbox-server 9.9.9 (commit test)";

  SECTION("intact and runs: in place, nothing else left") {
    const std::string bin = fake_server(want);
    auto r = run_here(install_cmd::put(h, hex_sha(bin), want), bin, d.path);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(read(dir / "plugbox-server") == bin);
    CHECK(entries(dir) == std::vector<std::string>{"plugbox-server"});
  }
  SECTION("damaged on the way: exit 5, nothing in place, no temporary file") {
    const std::string bin = fake_server(want);
    auto r = run_here(install_cmd::put(h, hex_sha(bin), want), bin.substr(0, bin.size() - 5), d.path);
    CHECK(r.status == 5);
    CHECK_THAT(r.err, Catch::StartsWith("it arrived damaged (sha256 "));
    CHECK(entries(dir).empty());
  }
  SECTION("does not run there (another architecture, noexec): exit 4 with the shell's words") {
    const std::string bin = std::string("\x7f" "ELF\x02\x01\x01", 7) + std::string(64, '\0');
    auto r = run_here(install_cmd::put(h, hex_sha(bin), want), bin, d.path);
    CHECK(r.status == 4);
    CHECK_THAT(r.err, Catch::StartsWith("it does not run there: "));
    CHECK(entries(dir).empty());
  }
  SECTION("runs but names another version: exit 4, and what is in place stays") {
    write(dir / "plugbox-server", "the one before", fs::perms(0755));
    const std::string bin = fake_server("plugbox-server 0.0.1 (commit old)");
    auto r = run_here(install_cmd::put(h, hex_sha(bin), want), bin, d.path);
    CHECK(r.status == 4);
    CHECK(r.err == "it says 'plugbox-server 0.0.1 (commit old)', not '" + want + "'\n");
    CHECK(read(dir / "plugbox-server") == "the one before");
    CHECK(entries(dir) == std::vector<std::string>{"plugbox-server"});
  }
}

TEST_CASE("install: eight installs racing on one host all succeed and leave one whole binary") {
  TempDir d;
  const HostContext h = ctx_at(d.path / "home");
  REQUIRE(run_here(install_cmd::probe(h), "", d.path).status == 0);
  const std::string want = "plugbox-server 9.9.9 (commit race)";
  // Big enough that the writes overlap.
  const std::string bin = fake_server(want) + "# " + std::string(4 << 20, 'x') + "\n";
  std::vector<std::future<ShellResult>> racers;
  for (int i = 0; i < 8; ++i)
    racers.push_back(std::async(std::launch::async, [&] { return run_here(install_cmd::put(h, hex_sha(bin), want), bin, d.path); }));
  for (auto& r : racers) CHECK(r.get().status == 0);
  const fs::path dir = fs::path(h.home) / ".plugbox" / "servers" / server_tag();
  CHECK(entries(dir) == std::vector<std::string>{"plugbox-server"});
  CHECK(hex_sha(read(dir / "plugbox-server")) == hex_sha(bin));
}

TEST_CASE("install: gc removes the other versions and stale temporary files, its dry run removes nothing") {
  TempDir d;
  const HostContext h = ctx_at(d.path / "home");
  const fs::path servers = fs::path(h.home) / ".plugbox" / "servers";
  write(servers / "0.0.1-old" / "plugbox-server", "old");
  write(servers / "0.0.2-older" / "plugbox-server", "older");
  write(servers / "99.0.0-newer" / "plugbox-server", "another operator's newer plugbox");
  write(servers / server_tag() / "plugbox-server", "ours");
  write(servers / server_tag() / ".plugbox-server.123.tmp", "interrupted long ago");
  write(servers / server_tag() / ".plugbox-server.456.tmp", "an install running now");
  REQUIRE(std::system(("touch -d '2 hours ago' '" + (servers / server_tag() / ".plugbox-server.123.tmp").string() + "'").c_str()) == 0);

  auto dry = run_here(install_cmd::remove_others(h, true), "", d.path);
  CHECK(dry.status == 0);
  CHECK(dry.out ==
        "would remove server 0.0.1-old\nwould remove server 0.0.2-older\nkept server 99.0.0-newer (a newer release)\n");
  CHECK(entries(servers) == std::vector<std::string>{"0.0.1-old", "0.0.2-older", server_tag(), "99.0.0-newer"});
  CHECK(entries(servers / server_tag()).size() == 3);  // the dry run removed no temporary file either

  auto r = run_here(install_cmd::remove_others(h, false), "", d.path);
  CHECK(r.status == 0);
  CHECK(r.out == "removed server 0.0.1-old\nremoved server 0.0.2-older\nkept server 99.0.0-newer (a newer release)\n");
  CHECK(entries(servers) == std::vector<std::string>{server_tag(), "99.0.0-newer"});
  CHECK(entries(servers / server_tag()) == std::vector<std::string>{".plugbox-server.456.tmp", "plugbox-server"});

  // A home plugbox never installed in: nothing to do.
  CHECK(run_here(install_cmd::remove_others(ctx_at(d.path / "nowhere"), false), "", d.path).status == 0);
}

namespace {

bool is_version(const Command& c) { return !c.words().empty() && c.words().back() == "--version"; }
bool is_script(const Command& c, std::string_view part) {
  return c.words().size() > 2 && c.words()[0] == "sh" && c.words()[2].find(part) != std::string::npos;
}
bool is_probe(const Command& c) { return is_script(c, "uname -m ||"); }
bool is_put(const Command& c) { return is_script(c, "dir=$1 sum=$2"); }

// One scripted host (web1) with plugbox's own server, and builds for two
// architectures.
struct InstallFleet : ScriptedFleet {
  TempDir builds_dir;
  ServerBuilds builds{builds_dir.path};
  std::vector<PlannedHost> hosts;
  std::string put_stdin, put_sha;

  explicit InstallFleet(const std::string& server_defaults = "") : ScriptedFleet(1, server_defaults) {
    write(builds_dir.path / "x86_64" / "plugbox-server", "x86 server bytes");
    write(builds_dir.path / "aarch64" / "plugbox-server", std::string(600 * 1024, 'a'));  // more than a chunk
    // What HostConn::open installs from (ServerBuilds::local()).
    ::setenv("PLUGBOX_SERVERS", builds_dir.path.c_str(), 1);
    hosts = planned();
    t.every_host().on(is_put).reply([this](ScriptedExec& x) -> Awaitable<Exit> {
      put_sha = x.command().words().at(5);
      put_stdin = co_await x.read_stdin_to_end();
      co_return Exit{};
    });
  }
  ~InstallFleet() { ::unsetenv("PLUGBOX_SERVERS"); }
  std::vector<std::string> kinds() const {
    std::vector<std::string> out;
    for (const auto& e : t.execs("web1")) {
      const std::string& line = e.command;
      out.push_back(line.ends_with(" --version")                ? "version"
                    : line.find("uname -m ||") != line.npos     ? "probe"
                    : line.find("dir=$1 sum=$2") != line.npos   ? "put"
                                                                : line);
    }
    return out;
  }
  ServerReport ensure(EnsureOptions o = {}) {
    HostConn c(t, hosts[0], journal);
    REQUIRE(run(c.open(5)));  // no host sessions here: open checks the server itself
    return run(ensure_server(c, builds, o));
  }
};

}  // namespace

TEST_CASE("ensure_server: a current server costs its one --version and nothing else") {
  InstallFleet f;
  f.t.every_host().on(is_version).reply(Reply{.out = server_identity() + "\nhost protocols: upload 2, session 1\n"});
  auto r = f.ensure();
  CHECK(r.action == "current");
  CHECK(r.version == server_identity());
  CHECK(f.kinds() == std::vector<std::string>{"version", "version"});  // open's check, then ours
}

TEST_CASE("ensure_server: a missing server is installed: the host's architecture's build, on stdin, with its sha256") {
  InstallFleet f;
  bool installed = false;
  f.t.every_host().on(is_version).reply([&](ScriptedExec& x) -> Awaitable<Exit> {
    if (installed) x.write_stdout(server_identity() + "\n");
    else x.write_stderr("sh: 1: plugbox-server: not found\n");
    co_return Exit{.status = installed ? 0 : 127};
  });
  f.t.every_host().on(is_probe).reply([&](ScriptedExec& x) -> Awaitable<Exit> {
    x.write_stdout("aarch64\n");
    installed = true;  // what the put that follows does
    co_return Exit{};
  });
  HostConn c(f.t, f.hosts[0], f.journal);
  REQUIRE(f.run(c.open(5)));
  CHECK(c.server_report().action == "installed");
  CHECK(c.server_report().arch == "aarch64");
  CHECK(c.server_report().version == server_identity());
  CHECK(f.kinds() == std::vector<std::string>{"version", "probe", "put"});
  std::string why;
  CHECK(f.put_stdin == *ServerBuilds(f.builds_dir.path).binary("aarch64", &why)->bytes);
  CHECK(f.put_sha == hex_sha(f.put_stdin));
}

TEST_CASE("ensure_server: another version is replaced") {
  InstallFleet f;
  f.t.every_host().on(is_version).reply(Reply{.out = "plugbox-server 0.0.1 (commit old)\n"});
  f.t.every_host().on(is_probe).reply(Reply{.out = "x86_64\n"});
  HostConn c(f.t, f.hosts[0], f.journal);
  CHECK(f.run(c.open(5)));
  CHECK(c.server_report().action == "replaced");
  CHECK(f.put_stdin == "x86 server bytes");
}

TEST_CASE("ensure_server: what it cannot install on fails with the host named and the fix, before any upload") {
  InstallFleet f;
  f.t.every_host().on(is_version).reply(Reply{.err = "not found\n", .status = 127});
  auto open = [&f] {
    HostConn c(f.t, f.hosts[0], f.journal);
    const bool ok = f.run(c.open(5));
    CHECK_FALSE(c.server_report().ok());
    CHECK(c.error() == c.server_report().error);
    CHECK(c.connected());  // reached: not an unreachable host
    return std::pair{ok, c.error()};
  };
  SECTION("an architecture it has no build for") {
    f.t.every_host().on(is_probe).reply(Reply{.out = "riscv64\n"});
    auto [ok, error] = open();
    CHECK_FALSE(ok);
    CHECK(error == "web1: its architecture is riscv64 and this plugbox has no plugbox-server build for riscv64 (it has: "
                   "aarch64, x86_64, in " + f.builds_dir.path.string() + "); put a static build at " +
                   (f.builds_dir.path / "riscv64" / "plugbox-server").string() +
                   " (or set PLUGBOX_SERVERS to a directory of ARCH/plugbox-server), or install a plugbox-server "
                   "there yourself and set server = \"PATH\" for the host in the inventory");
    CHECK(f.kinds() == std::vector<std::string>{"version", "probe"});
  }
  SECTION("a home it cannot write") {
    f.t.every_host().on(is_probe).reply(
        Reply{.out = "x86_64\n", .err = "mkdir: cannot create directory '/home/shop/.plugbox': Read-only file system\n", .status = 3});
    auto [ok, error] = open();
    CHECK_FALSE(ok);
    CHECK_THAT(error, Catch::StartsWith("web1: cannot install plugbox-server in /home/shop/.plugbox/servers: exit 3: "
                                        "mkdir: cannot create directory '/home/shop/.plugbox': Read-only file system; "
                                        "make /home/shop/.plugbox writable by the service user, or install"));
    CHECK(f.kinds() == std::vector<std::string>{"version", "probe"});
  }
  SECTION("a full disk") {
    f.t.every_host().on(is_probe).reply(Reply{.out = "x86_64\n"});
    // (web1's own rule answers before the fleet's)
    f.t.host("web1").on(is_put).reply(Reply{.err = "cat: write error: No space left on device\n", .status = 3});
    auto [ok, error] = open();
    CHECK_FALSE(ok);
    CHECK_THAT(error, Catch::StartsWith("web1: installing plugbox-server in /home/shop/.plugbox/servers: exit 3: cat: "
                                        "write error: No space left on device; free space there (it needs 1 MB), "
                                        "or install"));
  }
  SECTION("a noexec home") {
    f.t.every_host().on(is_probe).reply(Reply{.out = "x86_64\n"});
    f.t.host("web1").on(is_put).reply(
        Reply{.err = "it does not run there: sh: 1: /home/shop/.plugbox/servers/x/.plugbox-server.9.tmp: Permission denied\n",
              .status = 4});
    auto [ok, error] = open();
    CHECK_FALSE(ok);
    CHECK_THAT(error, Catch::StartsWith("web1: plugbox-server (x86_64) was uploaded but it does not run there: sh: 1: "));
    CHECK_THAT(error, Catch::EndsWith("Permission denied; if /home/shop is mounted noexec, install a plugbox-server "
                                      "yourself where it may run and set server = \"PATH\" for the host in the inventory"));
  }
}

TEST_CASE("ensure_server: a connection lost during the check is an unreached host, not a reached one that failed") {
  InstallFleet f;
  f.t.every_host().on(is_version).reply(Reply{.end = Reply::End::drop});
  HostConn c(f.t, f.hosts[0], f.journal);
  CHECK_FALSE(f.run(c.open(5)));
  CHECK_FALSE(c.connected());
  CHECK_THAT(c.error(), Catch::StartsWith("web1: checking plugbox-server: "));
  CHECK_THAT(c.error(), Catch::EndsWith("; nothing was installed; run it again"));
}

TEST_CASE("ensure_server: with server_install = false a missing server is a failure that names bootstrap") {
  InstallFleet f("server_install = false\n");
  f.t.every_host().on(is_version).reply(Reply{.err = "not found\n", .status = 127});
  HostConn c(f.t, f.hosts[0], f.journal);
  CHECK_FALSE(f.run(c.open(5)));
  CHECK(c.error() == "web1: plugbox-server " + server_tag() +
                         " is not installed (server_install = false); run `plugbox fleet bootstrap --host web1`, or "
                         "set server_install = true");

  CHECK(f.kinds() == std::vector<std::string>{"version"});
  // `fleet bootstrap` installs it all the same.
  f.t.every_host().on(is_probe).reply(Reply{.out = "x86_64\n"});
  HostConn b(f.t, f.hosts[0], f.journal);
  CHECK(f.run(b.open(5, HostConn::OpenMode::bootstrap)));
  CHECK(b.server_report().action == "installed");
  CHECK(b.server_report().arch == "x86_64");
}

TEST_CASE("ensure_server: a pinned server is only asked its version, and only by a bootstrap") {
  InstallFleet f("server = \"/opt/pb/plugbox-server\"\n");
  f.t.every_host().on(is_version).reply(Reply{.out = "plugbox-server 0.0.1 (commit old)\n"});
  f.t.every_host().on("uname -m").reply(Reply{.out = "x86_64\n"});
  {
    HostConn c(f.t, f.hosts[0], f.journal);
    CHECK(f.run(c.open(5)));
    CHECK(c.server_report().action.empty());
    CHECK(f.t.execs("web1").empty());
  }
  HostConn b(f.t, f.hosts[0], f.journal);
  CHECK(f.run(b.open(5, HostConn::OpenMode::bootstrap)));
  CHECK(b.server_report().action == "pinned");
  CHECK(b.server_report().version == "plugbox-server 0.0.1 (commit old)");
  CHECK(b.server_report().arch == "x86_64");
  CHECK(f.kinds() == std::vector<std::string>{"version", "uname -m"});
}

TEST_CASE("ensure_server: a dry run installs nothing: a missing server fails the host, saying so") {
  InstallFleet f;
  f.t.every_host().on(is_version).reply(Reply{.err = "not found\n", .status = 127});
  HostConn c(f.t, f.hosts[0], f.journal);
  CHECK_FALSE(f.run(c.open(5, HostConn::OpenMode::dry_run)));
  CHECK(c.error() == "web1: plugbox-server " + server_tag() +
                         " is not installed (a dry run installs nothing); run `plugbox fleet bootstrap --host web1` or "
                         "a deploy");
  CHECK(f.kinds() == std::vector<std::string>{"version"});
}
