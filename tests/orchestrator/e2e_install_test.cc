// plugbox installing its own plugbox-server (orchestrator/server_install.h),
// end to end: the real plugbox over real sshd hosts that have no server (web1
// and web2 behind a bastion, deep two hops in, solo direct), and over local
// hosts where the host's `uname -m` is steered. The sshd tests are skipped,
// saying why, where the harness cannot run (not root).
#include <catch2/catch.hpp>

#include <map>
#include <regex>

#include "orchestrator/planner.h"
#include "orchestrator/server_install.h"
#include "tests/harness/fleet_files.h"
#include "tests/harness/sshd_fleet.h"
#include "tests/orchestrator/e2e_scenarios.h"
#include "upload/common/sha256.h"

using namespace plugbox::e2e;
using plugbox::orchestrator::server_identity;
using plugbox::orchestrator::server_tag;

namespace {

fs::path installed(const E2eFleet& f, const std::string& host) {
  return f.host(host).home / ".plugbox" / "servers" / server_tag() / "plugbox-server";
}

// What a host's installed server says of itself ("" when it does not run).
std::string version_of(const fs::path& bin) {
  if (!fs::exists(bin)) return "";
  RunResult r = run({bin.string(), "--version"});
  return r.rc == 0 ? r.out.substr(0, r.out.find('\n')) : "";
}

// The journal's records of `host` for `step`.
std::vector<nlohmann::json> records(const fs::path& journal, const std::string& host, const std::string& step) {
  std::vector<nlohmann::json> out;
  for (const auto& line : lines_of(journal)) {
    auto e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_object() && e.value("host", "") == host && e.value("step", "") == step) out.push_back(e);
  }
  return out;
}

// The install's result record (the one with an exit status), or null.
nlohmann::json install_result(const fs::path& journal, const std::string& host) {
  for (const auto& e : records(journal, host, "server-install"))
    if (e.contains("exit")) return e;
  return nullptr;
}

// Files made here by the test (root) in a home belong to its login user, as
// the ones plugbox makes there do.
void give_to_login_user(const E2eFleet& f, const std::string& host, const fs::path& p) {
  const std::string cmd = "chown -R --reference='" + f.host(host).home.string() + "' '" + p.string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// A plugbox-server of another release at plugbox's own path on `host`: it
// names itself so and knows no `session`, as an older release would.
void plant_older_server(const E2eFleet& f, const std::string& host) {
  const fs::path bin = installed(f, host);
  fs::create_directories(bin.parent_path());
  write_file(bin,
             "#!/bin/sh\n"
             "case \"$*\" in *--version*) echo 'plugbox-server 0.0.1 (commit old)'; exit 0 ;; esac\n"
             "echo \"plugbox-server: unknown command\" >&2; exit 2\n",
             fs::perms(0755));
  give_to_login_user(f, host, f.host(host).home / ".plugbox");
}

// A filesystem mounted over a path for the length of a test (root only, as
// the sshd harness is): read-only, or too small for the server.
class Mount {
 public:
  Mount(const fs::path& at, const std::string& options) : at_(at) {
    fs::create_directories(at);
    const std::string cmd = "mount -t tmpfs -o " + options + " plugbox-test '" + at.string() + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  ~Mount() { (void)std::system(("umount -l '" + at_.string() + "'").c_str()); }
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

 private:
  fs::path at_;
};

}  // namespace

TEST_CASE("install e2e: sshd hosts without plugbox-server get it from the first deploy, the next costs no command more",
          "[e2e][sshd][installed]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  f->unpin_server();
  for (const auto& h : f->names()) REQUIRE_FALSE(fs::exists(f->host(h).home / ".plugbox"));
  Deployed d = deploy(*f);
  INFO(d.run.describe());
  REQUIRE(d.run.rc == 0);
  const fs::path journal = f->runs_dir() / d.version / "deploy.jsonl";
  for (const auto& h : f->names()) {
    INFO("host " << h);
    CHECK(f->home_of(h).live == d.version);
    CHECK(version_of(installed(*f, h)) == server_identity());
    auto r = install_result(journal, h);
    REQUIRE(r.is_object());
    CHECK(r["exit"] == 0);
    // The session then ran on it.
    auto sessions = records(journal, h, "session");
    REQUIRE_FALSE(sessions.empty());
    CHECK(sessions.back().value("server", "") == server_identity());
  }

  std::map<std::string, int> served;
  for (const auto& h : f->names()) served[h] = -commands_served(*f, h);
  f->write_release({"r2"});
  Deployed d2 = deploy(*f);
  INFO(d2.run.describe());
  REQUIRE(d2.run.rc == 0);
  const fs::path journal2 = f->runs_dir() / d2.version / "deploy.jsonl";
  for (const auto& h : f->names()) {
    INFO("host " << h << "\n" << f->sshd().log(h));
    CHECK(f->home_of(h).live == d2.version);
    CHECK(served[h] + commands_served(*f, h) == 1);  // the session alone
    CHECK(records(journal2, h, "server-check").empty());
    CHECK(records(journal2, h, "server-install").empty());
  }
}

TEST_CASE("install e2e: an older server is replaced, a pinned server is never touched", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  f->unpin_server();
  plant_older_server(*f, "web1");
  // solo's server is its own copy, pinned.
  const fs::path pinned = f->host("solo").home / "opt" / "plugbox-server";
  fs::create_directories(pinned.parent_path());
  fs::copy_file(f->server_bin(), pinned);
  give_to_login_user(*f, "solo", f->host("solo").home / "opt");
  f->set_host_line("solo", "server = " + plugbox::testing::toml_string(pinned.string()));
  const std::string pinned_sha = plugbox::upload::to_hex(plugbox::upload::sha256(slurp(pinned)));
  const auto pinned_mtime = fs::last_write_time(pinned);

  Deployed d = deploy(*f);
  INFO(d.run.describe());
  REQUIRE(d.run.rc == 0);
  const fs::path journal = f->runs_dir() / d.version / "deploy.jsonl";
  for (const auto& h : f->names()) CHECK(f->home_of(h).live == d.version);

  // web1: its session refused the older server, which was replaced in place.
  CHECK_THAT(records(journal, "web1", "session").at(1).value("unusable", ""),
             Catch::Contains("plugbox-server session exit 2"));
  auto check = records(journal, "web1", "server-check");
  REQUIRE(check.size() == 2);
  CHECK(check[1]["stdout"] == "plugbox-server 0.0.1 (commit old)\n");
  CHECK(install_result(journal, "web1")["exit"] == 0);
  CHECK(version_of(installed(*f, "web1")) == server_identity());

  // solo: only its pinned server ran, untouched; nothing was installed there.
  CHECK(plugbox::upload::to_hex(plugbox::upload::sha256(slurp(pinned))) == pinned_sha);
  CHECK(fs::last_write_time(pinned) == pinned_mtime);
  CHECK_FALSE(fs::exists(f->host("solo").home / ".plugbox"));
  CHECK(records(journal, "solo", "server-check").empty());
  CHECK(records(journal, "solo", "session").back().value("server", "") == server_identity());
}

TEST_CASE("install e2e: a host whose home is read-only or full fails staging, named, and nothing is switched anywhere",
          "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  const std::string r1 = deploy_release(*f, {"r1"});  // with the pinned server: r1 live everywhere
  f->unpin_server();
  f->write_release({"r2"});
  const fs::path dotdir = f->host("web2").home / ".plugbox";
  auto nothing_switched = [&](const Deployed& d) {
    for (const auto& h : f->names()) {
      INFO("host " << h);
      CHECK(f->home_of(h).live == r1);
      CHECK(f->home_of(h).versions.count(d.version) == 0);  // staged copies removed
    }
  };
  {
    Mount ro(dotdir, "ro,size=1m");
    Deployed d = deploy(*f);
    INFO(d.run.describe());
    CHECK(d.run.rc == 1);
    CHECK_THAT(d.run.out + d.run.err,
               Catch::Contains("web2: cannot install plugbox-server in " + dotdir.string() + "/servers: exit 3: ") &&
                   Catch::Contains("Read-only file system; make " + dotdir.string() +
                                   " writable by the service user, or install a plugbox-server there yourself"));
    nothing_switched(d);
  }
  {
    Mount full(dotdir, "size=1m,mode=0777");
    Deployed d = deploy(*f);
    INFO(d.run.describe());
    CHECK(d.run.rc == 1);
    CHECK_THAT(d.run.out + d.run.err,
               Catch::Contains("web2: installing plugbox-server in " + dotdir.string() + "/servers: exit 3: ") &&
                   Catch::Contains("No space left on device; free space there"));
    nothing_switched(d);
    // The interrupted upload left no partial binary behind.
    CHECK_FALSE(fs::exists(installed(*f, "web2")));
  }
  // Once the home is fixed (the mount point the test made, as root, gone),
  // the same deploy goes through.
  fs::remove_all(dotdir);
  Deployed d = deploy(*f);
  INFO(d.run.describe());
  CHECK(d.run.rc == 0);
  for (const auto& h : f->names()) CHECK(f->home_of(h).live == d.version);
}

TEST_CASE("install e2e: two deploys racing to install on the same hosts both leave a working binary", "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  f->unpin_server();
  // The same second: both find no server and install at once; one of them
  // then holds each host's lock, and the other is refused there or stages
  // after it.
  Background a = f->spawn_plugbox({"fleet", "deploy", "--group", "app", "--json"});
  Background b = f->spawn_plugbox({"fleet", "bootstrap", "--group", "app"});
  RunResult ra = a.wait(), rb = b.wait();
  INFO(ra.describe() << "\n" << rb.describe());
  CHECK(ra.rc == 0);
  CHECK(rb.rc == 0);
  for (const auto& h : f->names()) {
    INFO("host " << h);
    CHECK(version_of(installed(*f, h)) == server_identity());
    // Nothing but the binary: no temporary file of either install left.
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(installed(*f, h).parent_path())) left.push_back(e.path().filename());
    CHECK(left == std::vector<std::string>{"plugbox-server"});
  }
  // Two deploys at once: each installs where it finds none, one of them
  // wins each host's lock.
  for (const auto& h : f->names()) fs::remove_all(f->host(h).home / ".plugbox");
  wait_past(plugbox::orchestrator::version_now());
  f->write_release({"r2"});
  // The second from a copy of the source: two prepares in one directory
  // would trip over each other before either reached a host.
  const fs::path src2 = f->dir() / "src2";
  fs::copy(f->service_dir(), src2, fs::copy_options::recursive);
  Background c = f->spawn_plugbox({"fleet", "deploy", "--group", "app", "--json"});
  Background e = Background::start({E2eFleet::plugbox_bin(), "-i", f->inventory().string(), "-f",
                                    (src2 / "plugbox.toml").string(), "fleet", "deploy", "--group", "app", "--json"},
                                   f->options());
  RunResult rc = c.wait(), re = e.wait();
  INFO(rc.describe() << "\n" << re.describe());
  // Each deploy went through, or was refused by the other's lock (they may
  // split the hosts between them, and then both stop), or, started in the
  // same second, found its run's name taken by the other's journal before
  // touching any host: never by its install.
  for (const RunResult* run : {&rc, &re}) {
    if (run->rc != 0)
      CHECK_THAT(run->out + run->err, Catch::Contains("lock") || Catch::Contains("took the name"));
    CHECK_THAT(run->out + run->err, !Catch::Contains("plugbox-server ("));
  }
  for (const auto& h : f->names()) {
    INFO("host " << h);
    CHECK(version_of(installed(*f, h)) == server_identity());
  }
  RunResult st = f->plugbox({"fleet", "status", "--group", "app"});
  INFO(st.describe());
  CHECK(st.rc == 0);
}

TEST_CASE("install e2e: fleet bootstrap on a mixed fleet prints what it did per host, fleet gc removes old servers",
          "[e2e][sshd]") {
  E2E_SSH_FLEET_OR_SKIP(f);
  f->unpin_server();
  // web1: nothing; web2: an older server; deep: this one already; solo: pinned.
  plant_older_server(*f, "web2");
  RunResult first = f->plugbox({"fleet", "bootstrap", "--host", "deep"});
  INFO(first.describe());
  REQUIRE(first.rc == 0);
  f->set_host_line("solo", "server = " + plugbox::testing::toml_string(f->server_bin()));

  RunResult r = f->plugbox({"fleet", "bootstrap", "--group", "app"});
  INFO(r.describe());
  CHECK(r.rc == 0);
  auto row = [&](const std::string& host, const std::string& action) {
    return std::regex(host + " +x86_64 +" + std::regex_replace(server_identity(), std::regex(R"([()])"), R"(\$&)") +
                      " +" + action + "\n");
  };
  CHECK(r.out.rfind("HOST", 0) == 0);
  CHECK(std::regex_search(r.out, row("web1", "installed")));
  CHECK(std::regex_search(r.out, row("web2", "replaced")));
  CHECK(std::regex_search(r.out, row("deep", "current")));
  CHECK(std::regex_search(r.out, row("solo", "pinned")));
  for (const auto& h : f->names()) {
    INFO("host " << h);
    CHECK(read_home(f->host(h).home).exists);  // the layout: ready for a first deploy
    if (h != "solo") CHECK(version_of(installed(*f, h)) == server_identity());
  }
  CHECK_FALSE(fs::exists(f->host("solo").home / ".plugbox"));

  // The same as JSON, now that every host is current.
  RunResult j = f->plugbox({"fleet", "bootstrap", "--group", "app", "--json"});
  INFO(j.describe());
  auto rows = nlohmann::json::parse(j.out);
  REQUIRE(rows.size() == 4);
  for (const auto& row : rows) {
    CHECK(row["arch"] == "x86_64");
    CHECK(row["server"] == server_identity());
    CHECK(row["action"] == (row["host"] == "solo" ? "pinned" : "current"));
    CHECK(row["error"].is_null());
  }

  // fleet gc: other versions' servers go, this one stays.
  const fs::path old = f->host("web1").home / ".plugbox" / "servers" / "0.0.1-old";
  fs::create_directories(old);
  write_file(old / "plugbox-server", "old\n", fs::perms(0755));
  give_to_login_user(*f, "web1", old);
  deploy_release(*f, {"r1"});
  RunResult gc = f->plugbox({"fleet", "gc", "--group", "app"});
  INFO(gc.describe());
  CHECK(gc.rc == 0);
  CHECK_THAT(gc.out + gc.err, Catch::Contains("removed server 0.0.1-old"));
  CHECK_FALSE(fs::exists(old));
  CHECK(version_of(installed(*f, "web1")) == server_identity());
}

namespace {

// Local hosts whose `uname -m` says `arch` (a shim first on plugbox's PATH:
// local hosts run their commands with plugbox's environment).
RunOptions reporting_arch(const E2eFleet& f, const std::string& arch) {
  const fs::path shim = f.dir() / "shim";
  write_file(shim / "uname",
             "#!/bin/sh\n[ \"$1\" = -m ] && { echo " + arch + "; exit 0; }\nexec /bin/uname \"$@\"\n",
             fs::perms(0755));
  RunOptions o = f.options();
  o.env["PATH"] = shim.string() + ":" + std::getenv("PATH");
  return o;
}

}  // namespace

TEST_CASE("install e2e: a host reporting aarch64 gets the arm64 build", "[e2e]") {
  // The arm64 build beside plugbox (the build tree's servers/ or the package's).
  const fs::path arm = fs::path(E2eFleet::plugbox_bin()).parent_path() / ".." / "servers" / "aarch64" / "plugbox-server";
  const fs::path arm_pkg = fs::path(E2eFleet::plugbox_bin()).parent_path() / ".." / "lib" / "plugbox" / "servers" /
                           "aarch64" / "plugbox-server";
  const fs::path build = fs::exists(arm_pkg) ? arm_pkg : arm;
  if (!fs::exists(build)) {
    WARN("SKIPPED: no arm64 plugbox-server was built (no aarch64-linux-gnu-g++)");
    return;
  }
  auto f = E2eFleet::local(2);
  f->unpin_server();
  RunResult r = f->plugbox({"fleet", "bootstrap", "--group", "app", "--json"}, reporting_arch(*f, "aarch64"));
  INFO(r.describe());
  if (fs::exists("/proc/sys/fs/binfmt_misc/qemu-aarch64")) {
    // arm64 binaries run here (qemu-user through binfmt_misc): installed.
    CHECK(r.rc == 0);
    for (const auto& h : f->names()) CHECK(plugbox::upload::to_hex(plugbox::upload::sha256(slurp(installed(*f, h)))) ==
                                           plugbox::upload::to_hex(plugbox::upload::sha256(slurp(build))));
    return;
  }
  // This machine is not arm64, so the binary it gets does not run here: the
  // install says so and leaves nothing; on an arm64 host it runs (the arm64
  // build's own test runs it under qemu-user).
  CHECK(r.rc == 1);
  auto rows = nlohmann::json::parse(r.out);
  REQUIRE(rows.size() == 2);
  for (const auto& row : rows) {
    CHECK(row["arch"] == "aarch64");
    CHECK(row["action"] == "failed");
    CHECK_THAT(row["error"].get<std::string>(),
               Catch::StartsWith(row["host"].get<std::string>() + ": plugbox-server (aarch64) was uploaded but it does not run there: "));
  }
  // What was sent: the arm64 build, by its digest.
  const std::string sha = plugbox::upload::to_hex(plugbox::upload::sha256(slurp(build)));
  for (const auto& h : f->names()) {
    auto put = records(f->newest_journal("bootstrap"), h, "server-install");
    REQUIRE_FALSE(put.empty());
    CHECK_THAT(put.front().value("command", ""), Catch::Contains(" " + sha + " "));
    CHECK_FALSE(fs::exists(installed(*f, h)));
  }
}

TEST_CASE("install e2e: with PLUGBOX_SESSION=off the server is checked by one command and installed", "[e2e]") {
  auto f = E2eFleet::local(2);
  f->unpin_server();
  RunOptions o = f->options();
  o.env["PLUGBOX_SESSION"] = "off";
  RunResult r = f->plugbox({"fleet", "deploy", "--group", "app"}, o);
  INFO(r.describe());
  REQUIRE(r.rc == 0);
  const fs::path journal = f->newest_journal("deploy");
  for (const auto& h : f->names()) {
    INFO("host " << h);
    CHECK(version_of(installed(*f, h)) == server_identity());
    CHECK(records(journal, h, "server-check").size() == 2);  // command, result
    CHECK(install_result(journal, h)["exit"] == 0);
  }
  // Next time the check finds it current: one command, no install.
  wait_past(plugbox::orchestrator::version_now());
  RunResult again = f->plugbox({"fleet", "deploy", "--group", "app"}, o);
  INFO(again.describe());
  REQUIRE(again.rc == 0);
  for (const auto& h : f->names()) {
    CHECK(records(f->newest_journal("deploy"), h, "server-check").size() == 2);
    CHECK(records(f->newest_journal("deploy"), h, "server-install").empty());
  }
}

TEST_CASE("install e2e: dry runs install nothing on hosts without a server", "[e2e]") {
  auto f = E2eFleet::local(2);
  f->unpin_server();
  for (std::vector<std::string> args : {std::vector<std::string>{"fleet", "deploy", "--group", "app", "--dry-run"},
                                        {"fleet", "rollback", "--group", "app", "--dry-run"},
                                        {"fleet", "gc", "--group", "app", "--dry-run"}}) {
    RunResult r = f->plugbox(args);
    INFO(args[1] << ": " << r.describe());
    if (args[1] != "deploy") CHECK_THAT(r.out + r.err, Catch::Contains("is not installed (a dry run installs nothing)"));
    for (const auto& h : f->names()) CHECK_FALSE(fs::exists(f->host(h).home / ".plugbox"));
  }
}
