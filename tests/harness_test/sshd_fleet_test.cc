// The harness proven with the OpenSSH client: direct hosts, a bastion, a
// two-hop chain, stop/start, a changed host key, a frozen host, connection
// counts, the inventory, a clean teardown, 50 hosts behind one bastion, a
// shaped bastion link.
// Needs root; skips with the reason otherwise.
#include "tests/harness/sshd_fleet.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <toml++/toml.h>

#include "tests/harness/fleet_files.h"
#include "tests/harness/fleet_or_skip.h"
#include "tests/harness/fleet_plan.h"
#include "tests/harness/process.h"

using namespace plugbox::testing;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct SshResult {
  int code = -1;
  std::string out;
  double seconds = 0;
};

SshResult run_ssh(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/ssh");
  const auto t0 = Clock::now();
  Child c = Child::start(args);
  SshResult r;
  r.code = c.wait();
  r.out = c.output();
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

// ssh through the fleet's client config (needed for -J: ssh passes only -F
// down to the jump connections, not -o or -i).
SshResult ssh_cfg(const SshdFleet& f, std::vector<std::string> args) {
  args.insert(args.begin(), {"-F", f.ssh_config_path()});
  return run_ssh(std::move(args));
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

template <typename Pred>
bool eventually(Pred pred, std::chrono::seconds limit = std::chrono::seconds(20)) {
  const auto end = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    closedir(d);
  }
  return out;
}

// Processes whose command line mentions `needle` (e.g. the fleet's temp dir).
std::vector<std::string> processes_mentioning(const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& pid : list_dir("/proc")) {
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = slurp("/proc/" + pid + "/cmdline");
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find(needle) != std::string::npos) out.push_back(pid + ": " + cmd);
  }
  return out;
}

char state_of(long pid) {
  std::string line = slurp("/proc/" + std::to_string(pid) + "/stat");
  auto rp = line.rfind(')');
  return rp == std::string::npos || rp + 2 >= line.size() ? 0 : line[rp + 2];
}

bool gone(long pid) {
  char s = state_of(pid);
  return s == 0 || s == 'Z' || s == 'X';
}

FleetOptions options_for(std::vector<HostSpec> hosts) {
  FleetOptions o;
  o.hosts = std::move(hosts);
  return o;
}

// A command running on a host in the background of the test: started from
// its own thread (ssh blocks), the remote shell's pid written to the host's
// home first.
struct RemoteSleeper {
  RemoteSleeper(const SshdFleet& f, const std::string& host) : pid_file(f.host(host).home + "/sleeper.pid") {
    // The config's keepalives bound the wait should the host's end never
    // reach the client: finish() then says "not responding".
    std::vector<std::string> args{"-F", f.ssh_config_path(), host, "echo $$ > \"$HOME/sleeper.pid\"; exec sleep 100"};
    thread = std::thread([this, args] { result = run_ssh(args); });
  }
  ~RemoteSleeper() {
    if (thread.joinable()) thread.join();
  }
  long wait_started() {
    long pid = 0;
    eventually([&] {
      std::ifstream in(pid_file);
      return bool(in >> pid);
    });
    return pid;
  }
  SshResult finish() {
    thread.join();
    return result;
  }
  std::string pid_file;
  SshResult result;
  std::thread thread;
};

}  // namespace

TEST_CASE("a direct host runs a command as the test user, with its own writable HOME", "[sshd]") {
  PLUGBOX_FLEET_OR_SKIP(fleet, options_for({{"alpha"}, {"beta"}}));
  const auto& a = fleet->host("alpha");
  CHECK(a.netns.empty());
  CHECK(a.jump_chain.empty());
  CHECK(a.address.rfind("127.", 0) == 0);
  CHECK(fleet->user() == "plugbox-test");
  CHECK(fleet->running("alpha"));

  // Plain OpenSSH options, not the generated client config: the key and
  // known_hosts work on their own under strict checking.
  auto r = run_ssh({"-F", "/dev/null", "-i", fleet->client_key_path(), "-o", "IdentitiesOnly=yes", "-o",
                    "UserKnownHostsFile=" + fleet->known_hosts_path(), "-o", "GlobalKnownHostsFile=/dev/null", "-o",
                    "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-p",
                    std::to_string(a.port), fleet->user() + "@" + a.address,
                    "id -un; echo \"$HOME\"; echo hello > \"$HOME/greeting\""});
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out == "plugbox-test\n" + a.home + "\n");
  CHECK(slurp(a.home + "/greeting") == "hello\n");
  CHECK_FALSE(fs::exists(fleet->host("beta").home + "/greeting"));
  CHECK(fleet->accepted_connections("alpha") == 1);
  CHECK(fleet->authenticated_connections("alpha") == 1);
  CHECK(fleet->accepted_connections("beta") == 0);

  // known_hosts holds one line per host, in OpenSSH's [addr]:port form.
  const std::string kh = slurp(fleet->known_hosts_path());
  CHECK(kh == a.known_hosts_line + "\n" + fleet->host("beta").known_hosts_line + "\n");
  CHECK(a.known_hosts_line == "[" + a.address + "]:" + std::to_string(a.port) + " " + a.host_public_key);
  CHECK(a.host_public_key != fleet->host("beta").host_public_key);  // one key per host
}

TEST_CASE("a host behind a bastion is reachable with -J bastion and not directly - counts follow", "[sshd]") {
  PLUGBOX_FLEET_OR_SKIP(fleet, options_for({{"bastion"}, {"web01", "bastion", {"web"}}, {"web02", "bastion"}}));
  const auto& b = fleet->host("bastion");
  const auto& w = fleet->host("web01");
  CHECK(b.is_jump);
  CHECK_FALSE(b.netns.empty());
  CHECK(w.netns == b.netns);
  CHECK(w.jump_chain == std::vector<std::string>{"bastion"});

  auto through = ssh_cfg(*fleet, {"-J", "bastion", "web01", "echo \"$HOME\""});
  INFO(through.out);
  CHECK(through.code == 0);
  CHECK(through.out == w.home + "\n");

  auto direct = ssh_cfg(*fleet, {"-o", "ProxyJump=none", "-o", "ConnectTimeout=3", "web01", "true"});
  std::printf("direct connect to a host behind the bastion failed after %.3f s: %s", direct.seconds,
              direct.out.c_str());
  CHECK(direct.code == 255);

  auto bastion_itself = ssh_cfg(*fleet, {"bastion", "echo \"$HOME\""});
  CHECK(bastion_itself.code == 0);
  CHECK(bastion_itself.out == b.home + "\n");

  CHECK(fleet->accepted_connections("bastion") == 2);  // the -J tunnel and the direct login
  CHECK(fleet->accepted_connections("web01") == 1);    // the direct attempt never reached it
  CHECK(fleet->accepted_connections("web02") == 0);
}

TEST_CASE("tunnels through one bastion connection count as one accepted connection there", "[sshd]") {
  PLUGBOX_FLEET_OR_SKIP(fleet, options_for({{"bastion"}, {"h1", "bastion"}, {"h2", "bastion"}, {"h3", "bastion"}}));
  // One OpenSSH master connection to the bastion; every target tunnels
  // through it (ssh -W over the master's socket: a direct-tcpip channel each).
  const std::string sock = fleet->dir() + "/cm";
  SshResult master_result;
  std::thread master([&] {
    master_result = ssh_cfg(*fleet, {"-M", "-S", sock, "-o", "ControlPersist=no", "-N", "bastion"});
  });
  const bool up = eventually([&] { return fs::exists(sock); });
  if (up) {
    const std::string via_master = "ProxyCommand=/usr/bin/ssh -F " + fleet->ssh_config_path() + " -S " + sock +
                                   " -W %h:%p bastion";
    for (const char* h : {"h1", "h2", "h3", "h1"}) {
      auto r = ssh_cfg(*fleet, {"-o", via_master, h, "true"});
      INFO(h << ": " << r.out);
      CHECK(r.code == 0);
    }
    ssh_cfg(*fleet, {"-S", sock, "-O", "exit", "bastion"});
  }
  master.join();
  INFO(master_result.out);
  REQUIRE(up);
  CHECK(fleet->accepted_connections("bastion") == 1);
  CHECK(fleet->authenticated_connections("bastion") == 1);
  CHECK(fleet->accepted_connections("h1") == 2);
  CHECK(fleet->accepted_connections("h2") == 1);
  CHECK(fleet->accepted_connections("h3") == 1);
}

TEST_CASE("a host two hops away works with -J b1,b2 and through no shorter path", "[sshd]") {
  PLUGBOX_FLEET_OR_SKIP(fleet, options_for({{"b1"}, {"b2", "b1"}, {"deep", "b2"}}));
  const auto& deep = fleet->host("deep");
  CHECK(deep.jump_chain == std::vector<std::string>{"b1", "b2"});
  CHECK(deep.netns == fleet->host("b2").netns);
  CHECK(fleet->host("b2").netns != fleet->host("b1").netns);

  auto ok = ssh_cfg(*fleet, {"-J", "b1,b2", "deep", "echo \"$HOME\""});
  INFO(ok.out);
  CHECK(ok.code == 0);
  CHECK(ok.out == deep.home + "\n");
  // The generated config chains the ProxyJumps by itself.
  CHECK(ssh_cfg(*fleet, {"deep", "true"}).code == 0);

  auto one_hop = ssh_cfg(*fleet, {"-J", "b1", "deep", "true"});
  CHECK(one_hop.code == 255);
  auto no_hop = ssh_cfg(*fleet, {"-o", "ProxyJump=none", "-o", "ConnectTimeout=3", "deep", "true"});
  CHECK(no_hop.code == 255);
  auto b2_direct = ssh_cfg(*fleet, {"-o", "ProxyJump=none", "-o", "ConnectTimeout=3", "b2", "true"});
  std::printf("direct connects failed after %.3f s (deep), %.3f s (b2): %s%s", no_hop.seconds, b2_direct.seconds,
              no_hop.out.c_str(), b2_direct.out.c_str());
  CHECK(b2_direct.code == 255);
  CHECK(fleet->accepted_connections("deep") == 2);
  CHECK(fleet->accepted_connections("b1") == 3);  // two successes and the one-hop attempt
}

TEST_CASE("stop_host kills the host and its running sessions - start_host brings it back", "[sshd]") {
  PLUGBOX_FLEET_OR_SKIP(fleet, options_for({{"bastion"}, {"app", "bastion"}}));
  const auto before = fleet->host("app");

  RemoteSleeper sleeper(*fleet, "app");
  const long remote_shell = sleeper.wait_started();
  REQUIRE(remote_shell > 0);
  CHECK_FALSE(gone(remote_shell));

  fleet->stop_host("app");
  CHECK_FALSE(fleet->running("app"));
  CHECK(fleet->host("app").sshd_pid == 0);
  auto killed = sleeper.finish();
  CHECK(killed.code == 255);  // the connection died mid-command
  CHECK(eventually([&] { return gone(remote_shell); }));
  CHECK(ssh_cfg(*fleet, {"app", "true"}).code == 255);
  fleet->stop_host("app");  // no-op when stopped

  // A command its session left running (the client is long gone) dies with the host too.
  fleet->start_host("app");
  CHECK(fleet->running("app"));
  auto detached = ssh_cfg(*fleet, {"app", "sleep 100 > /dev/null 2>&1 < /dev/null & echo $!"});
  REQUIRE(detached.code == 0);
  const long orphan = std::stol(detached.out);
  CHECK_FALSE(gone(orphan));
  fleet->stop_host("app");
  CHECK(eventually([&] { return gone(orphan); }));
  fleet->start_host("app");
  fleet->start_host("app");  // no-op when running
  const auto& after = fleet->host("app");
  CHECK(after.address == before.address);
  CHECK(after.port == before.port);
  CHECK(after.host_public_key == before.host_public_key);
  auto back = ssh_cfg(*fleet, {"app", "echo back"});
  CHECK(back.code == 0);
  CHECK(back.out == "back\n");
  // Stopping the bastion cuts off the host behind it, which keeps running.
  fleet->stop_host("bastion");
  CHECK(fleet->running("app"));
  CHECK(ssh_cfg(*fleet, {"app", "true"}).code == 255);
}

TEST_CASE("replace_host_key makes strict checking refuse the host - the new key is served", "[sshd]") {
  PLUGBOX_FLEET_OR_SKIP(fleet, options_for({{"a"}, {"b"}}));
  const std::string old_key = fleet->host("a").host_public_key;
  const std::string old_known_hosts = slurp(fleet->known_hosts_path());
  REQUIRE(ssh_cfg(*fleet, {"a", "true"}).code == 0);

  fleet->replace_host_key("a");
  const auto& a = fleet->host("a");
  CHECK(a.host_public_key != old_key);
  CHECK(a.host_public_key.rfind("ssh-ed25519 ", 0) == 0);
  CHECK(slurp(fleet->known_hosts_path()) == old_known_hosts);  // the client's view is now stale

  auto refused = ssh_cfg(*fleet, {"a", "true"});
  CHECK(refused.code == 255);
  CHECK_THAT(refused.out, Catch::Contains("Host key verification failed"));
  CHECK(ssh_cfg(*fleet, {"b", "true"}).code == 0);

  // The new key, as a known_hosts line, is accepted.
  const std::string fresh = fleet->dir() + "/fresh_known_hosts";
  std::ofstream(fresh) << known_hosts_line(a.address, a.port, a.host_public_key) << "\n";
  auto accepted = ssh_cfg(*fleet, {"-o", "UserKnownHostsFile=" + fresh, "a", "echo ok"});
  CHECK(accepted.code == 0);
  CHECK(accepted.out == "ok\n");
}

TEST_CASE("a frozen host accepts TCP but never answers - thawed, it serves again", "[sshd]") {
  PLUGBOX_FLEET_OR_SKIP(fleet, options_for({{"a"}}));
  fleet->freeze_host("a");
  auto hung = ssh_cfg(*fleet, {"-o", "ConnectTimeout=1", "a", "true"});
  std::printf("ssh to a frozen host gave up after %.3f s: %s", hung.seconds, hung.out.c_str());
  CHECK(hung.code == 255);
  fleet->thaw_host("a");
  CHECK(ssh_cfg(*fleet, {"a", "true"}).code == 0);
}

TEST_CASE("inventory_toml describes the running fleet", "[sshd]") {
  FleetOptions o = options_for({{"bastion"}, {"web01", "bastion", {"web"}}, {"solo", "", {"web"}}});
  o.inventory_defaults_extra = {"server = \"/opt/plugbox/plugbox-server\""};
  PLUGBOX_FLEET_OR_SKIP(fleet, o);
  const std::string text = fleet->inventory_toml();
  CHECK(slurp(fleet->inventory_path()) == text);
  auto t = toml::parse(text);
  CHECK(t["defaults"]["user"].value_or(std::string()) == fleet->user());
  CHECK(t["defaults"]["identity"].value_or(std::string()) == fleet->client_key_path());
  CHECK(t["defaults"]["known_hosts"].value_or(std::string()) == fleet->known_hosts_path());
  CHECK(t["defaults"]["host_key_check"].value_or(std::string()) == "strict");
  CHECK(t["defaults"]["server"].value_or(std::string()) == "/opt/plugbox/plugbox-server");
  for (const auto& h : fleet->hosts()) {
    INFO(h.name);
    CHECK(t["hosts"][h.name]["address"].value_or(std::string()) == h.address);
    CHECK(t["hosts"][h.name]["port"].value_or(0) == h.port);
    CHECK(t["hosts"][h.name]["home"].value_or(std::string()) == h.home);
    CHECK(t["hosts"][h.name]["jump"].value_or(std::string()) == h.behind);
  }
  CHECK(t["groups"]["web"]["hosts"].as_array()->size() == 2);
  CHECK(t["groups"]["leaves"]["hosts"].as_array()->size() == 2);
  CHECK(t["groups"]["all"]["hosts"].as_array()->size() == 3);
}

TEST_CASE("teardown leaves no namespace, veth, route, sshd, session or temp dir behind", "[sshd]") {
  std::string skip;
  auto fleet = SshdFleet::start(options_for({{"b1"}, {"b2", "b1"}, {"deep", "b2"}, {"top"}}), &skip);
  if (!fleet) {
    WARN("SKIPPED: " << skip);
    return;
  }
  std::set<std::string> namespaces;
  for (const auto& h : fleet->hosts())
    if (!h.netns.empty()) namespaces.insert(h.netns);
  REQUIRE(namespaces.size() == 2);
  long pid = 0;
  int slot = -1;
  REQUIRE(parse_netns_name(*namespaces.begin(), &pid, &slot));
  const std::string dir = fleet->dir();
  std::vector<long> sshd_pids;
  for (const auto& h : fleet->hosts()) sshd_pids.push_back(h.sshd_pid);

  auto netns_listed = [&] {
    std::string listing = run_checked({find_program("ip"), "netns", "list"});
    std::vector<std::string> found;
    for (const auto& ns : namespaces)
      if (listing.find(ns) != std::string::npos) found.push_back(ns);
    return found;
  };
  auto our_interfaces = [&] {
    std::vector<std::string> found;
    for (const auto& n : list_dir("/sys/class/net"))
      if (n.rfind(veth_prefix(slot), 0) == 0) found.push_back(n);
    return found;
  };
  auto unreachable_route = [&] {
    char dest[16];
    std::snprintf(dest, sizeof dest, "%02X%02X%02X%02X", 0, slot + 1, 18, 198);
    return slurp("/proc/net/route").find(std::string("*\t") + dest) != std::string::npos;
  };
  CHECK(netns_listed().size() == 2);
  CHECK(our_interfaces().size() == 1);  // the root side of b1's link; b2's lives inside b1's namespace
  CHECK(unreachable_route());
  CHECK(processes_mentioning(dir).size() >= 4);

  long remote_shell = 0;
  {
    RemoteSleeper sleeper(*fleet, "deep");  // a live session two hops in when the fleet goes
    remote_shell = sleeper.wait_started();
    REQUIRE(remote_shell > 0);
    const auto t0 = Clock::now();
    fleet.reset();
    std::printf("teardown of a 4-host, 2-namespace fleet took %.3f s\n",
                std::chrono::duration<double>(Clock::now() - t0).count());
    const SshResult ended = sleeper.finish();
    INFO(ended.out);
    CHECK(ended.code == 255);
    // The session's end reached the client as a closed connection, not as
    // keepalives going unanswered through a network already removed.
    CHECK(ended.out.find("not responding") == std::string::npos);
  }
  CHECK(netns_listed().empty());
  CHECK(our_interfaces().empty());
  CHECK_FALSE(unreachable_route());
  CHECK_FALSE(fs::exists(dir));
  for (long p : sshd_pids) CHECK(gone(p));
  CHECK(eventually([&] { return gone(remote_shell); }));
  CHECK(eventually([&] { return processes_mentioning(dir).empty(); }));
}

TEST_CASE("a test killed with its fleet up leaves no sshd, and the next fleet sweeps its namespaces and dir",
          "[sshd]") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: not root");
    return;
  }
  // The victim: a child process that starts a fleet, reports it, and dies by SIGKILL.
  int p[2];
  REQUIRE(::pipe(p) == 0);
  pid_t victim = ::fork();
  REQUIRE(victim >= 0);
  if (victim == 0) {
    ::close(p[0]);
    std::string why, report;
    auto f = SshdFleet::start(options_for({{"j"}, {"in", "j"}}), &why);
    if (f) {
      report = f->dir() + "\n" + f->host("j").netns + "\n" + std::to_string(f->host("j").sshd_pid) + "\n" +
               std::to_string(f->host("in").sshd_pid) + "\n";
    }
    [[maybe_unused]] auto n = ::write(p[1], report.data(), report.size());
    ::raise(SIGKILL);
  }
  ::close(p[1]);
  std::string report;
  char buf[512];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) report.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int st = 0;
  REQUIRE(::waitpid(victim, &st, 0) == victim);
  REQUIRE(WIFSIGNALED(st));
  std::istringstream in(report);
  std::string dir, netns;
  long j_pid = 0, in_pid = 0;
  REQUIRE(in >> dir >> netns >> j_pid >> in_pid);
  long owner = 0;
  int slot = -1;
  REQUIRE(parse_netns_name(netns, &owner, &slot));
  CHECK(owner == victim);

  // Its sshd died with it (PR_SET_PDEATHSIG); its namespace and dir remain.
  CHECK(eventually([&] { return gone(j_pid) && gone(in_pid); }));
  CHECK(fs::exists("/run/netns/" + netns));
  CHECK(fs::exists(dir));
  // Another fleet may take the freed slot and make a veth of the same name: tell them apart by index.
  const std::string veth = "/sys/class/net/" + veth_prefix(slot) + "0p/ifindex";
  const std::string old_index = slurp(veth);
  CHECK_FALSE(old_index.empty());

  PLUGBOX_FLEET_OR_SKIP(next, options_for({{"x"}}));
  CHECK_FALSE(fs::exists("/run/netns/" + netns));
  CHECK_FALSE(fs::exists(dir));
  // The namespace's veth pair goes with it (the kernel frees it asynchronously).
  CHECK(eventually([&] { return slurp(veth) != old_index; }));
}

TEST_CASE("extra sshd_config lines reach sshd, SetEnv included", "[sshd]") {
  FleetOptions o = options_for({{"a"}});
  o.sshd_config_extra = {"SetEnv PBX_EXTRA=yes", "MaxSessions 1"};
  PLUGBOX_FLEET_OR_SKIP(fleet, o);
  auto r = ssh_cfg(*fleet, {"a", "echo \"$PBX_EXTRA $HOME\""});
  CHECK(r.code == 0);
  CHECK(r.out == "yes " + fleet->host("a").home + "\n");
  // sshd's own view of its configuration (-T) has the override and HOME both.
  auto t = run_checked({"/usr/sbin/sshd", "-T", "-f", fleet->dir() + "/hosts/a/sshd_config", "-C",
                        "user=plugbox-test,host=x,addr=127.0.0.1"});
  CHECK_THAT(t, Catch::Contains("\nmaxsessions 1\n"));
  CHECK_THAT(t, Catch::Contains("\nsetenv PBX_EXTRA=yes\n"));
  CHECK_THAT(t, Catch::Contains("\nsetenv HOME=" + fleet->host("a").home + "\n"));
}

TEST_CASE("a fleet that fails to start says why and leaves nothing behind", "[sshd]") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: not root");
    return;
  }
  FleetOptions o = options_for({{"j"}, {"in", "j"}});
  o.sshd_config_extra = {"NoSuchKeyword yes"};
  std::string skip;
  auto mine = [] {
    std::vector<std::string> found;
    const std::string pid = std::to_string(::getpid());
    for (const auto& n : list_dir("/run/netns"))
      if (n.rfind("pbx" + pid + "-", 0) == 0) found.push_back("netns " + n);
    for (const auto& n : list_dir("/tmp"))
      if (n.rfind("pbx-fleet-" + pid + "-", 0) == 0) found.push_back("dir " + n);
    return found;
  };
  REQUIRE(mine().empty());
  try {
    SshdFleet::start(o, &skip);
    FAIL("started with a bad sshd_config");
  } catch (const std::runtime_error& e) {
    // Both hosts fail; whichever is noticed first is reported.
    CHECK_THAT(e.what(), Catch::Matches("sshd of host '(j|in)' exited during start-up \\(status 255\\); its log "
                                        "[^\n]*/sshd.log:\n[^]*"));
    CHECK_THAT(e.what(), Catch::Contains("Bad configuration option: NoSuchKeyword"));
  }
  CHECK(mine().empty());
  CHECK(processes_mentioning("/tmp/pbx-fleet-" + std::to_string(::getpid()) + "-").empty());
}

TEST_CASE("two fleets of one process run side by side without sharing anything", "[sshd]") {
  PLUGBOX_FLEET_OR_SKIP(one, options_for({{"x"}, {"j"}, {"y", "j"}}));
  PLUGBOX_FLEET_OR_SKIP(two, options_for({{"x"}, {"j"}, {"y", "j"}}));
  CHECK(one->host("x").address != two->host("x").address);
  CHECK(one->host("j").address != two->host("j").address);
  CHECK(one->host("j").netns != two->host("j").netns);
  CHECK(one->dir() != two->dir());
  CHECK(ssh_cfg(*one, {"y", "true"}).code == 0);
  CHECK(ssh_cfg(*two, {"y", "true"}).code == 0);
  // Each fleet's client trusts only its own hosts.
  auto crossed = ssh_cfg(*one, {"-o", "HostName=" + two->host("x").address, "x", "true"});
  CHECK(crossed.code == 255);
}

TEST_CASE("a root-namespace host whose port is taken by a stranger moves to the next port", "[sshd]") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: not root");
    return;
  }
  // A wildcard listener on port P makes any bind to 127.x.y.z:P fail.
  int sock = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(sock >= 0);
  int port = 0;
  for (int i = 0; i < 200 && port == 0; ++i) {
    int p = 20000 + static_cast<int>((::getpid() * 7 + i * 13) % 10000);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(p));
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (::bind(sock, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) port = p;
  }
  REQUIRE(port != 0);
  REQUIRE(::listen(sock, 1) == 0);
  FleetOptions o = options_for({{"a"}});
  o.port = port;
  std::string skip;
  auto fleet = SshdFleet::start(o, &skip);
  ::close(sock);
  if (!fleet) {
    WARN("SKIPPED: " << skip);
    return;
  }
  const auto& h = fleet->host("a");
  CHECK(h.port > port);
  CHECK_THAT(slurp(fleet->known_hosts_path()), Catch::Contains("]:" + std::to_string(h.port) + " "));
  CHECK(ssh_cfg(*fleet, {"a", "true"}).code == 0);
}

TEST_CASE("bad options are refused before anything starts - a non-root caller is told why it must skip",
          "[sshd]") {
  std::string skip;
  CHECK_THROWS_WITH(SshdFleet::start(options_for({{"a"}, {"a"}}), &skip),
                    "FleetOptions.hosts[1] (\"a\"): duplicate host name");
  if (::geteuid() != 0) {
    CHECK(SshdFleet::start(options_for({{"a"}}), &skip) == nullptr);
    CHECK(skip.rfind("not root", 0) == 0);
    return;
  }
  // As root, check the non-root path in a child that drops to nobody.
  int p[2];
  REQUIRE(::pipe(p) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(p[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    std::string why;
    auto f = SshdFleet::start(options_for({{"a"}}), &why);
    [[maybe_unused]] auto n = ::write(p[1], why.data(), why.size());
    ::_exit(f ? 1 : 0);
  }
  ::close(p[1]);
  std::string why;
  char buf[512];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) why.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int st = 0;
  REQUIRE(::waitpid(pid, &st, 0) == pid);
  CHECK(WIFEXITED(st));
  CHECK(WEXITSTATUS(st) == 0);
  CHECK(why.rfind("not root: ", 0) == 0);
}

TEST_CASE("50 hosts behind one bastion start in reasonable time and are reachable", "[sshd][slow]") {
  std::vector<HostSpec> hosts{{"bastion"}};
  for (int i = 1; i <= 50; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "h%02d", i);
    hosts.push_back({name, "bastion"});
  }
  const auto t0 = Clock::now();
  PLUGBOX_FLEET_OR_SKIP(fleet, options_for(hosts));
  const double started = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("started 51 sshd (50 hosts behind one bastion) in %.3f s\n", started);
  WARN("started 51 sshd (50 hosts behind one bastion) in " << started << " s");
  CHECK(fleet->hosts().size() == 51);
  std::set<std::string> addresses, keys;
  for (const auto& h : fleet->hosts()) {
    addresses.insert(h.address);
    keys.insert(h.host_public_key);
    CHECK(h.sshd_pid > 0);
  }
  CHECK(addresses.size() == 51);
  CHECK(keys.size() == 51);
  CHECK(ssh_cfg(*fleet, {"h01", "true"}).code == 0);
  CHECK(ssh_cfg(*fleet, {"h50", "true"}).code == 0);
  CHECK(fleet->accepted_connections("bastion") == 2);
  const auto t1 = Clock::now();
  fleet.reset();
  std::printf("tore it down in %.3f s\n", std::chrono::duration<double>(Clock::now() - t1).count());
}

namespace {

// "Sent N bytes" of `tc -s qdisc show dev IF` in namespace ns ("" = root),
// and the qdisc lines themselves.
std::pair<std::uint64_t, std::string> qdisc_sent(const std::string& ns, const std::string& dev) {
  std::vector<std::string> argv{find_program("tc")};
  if (!ns.empty()) argv.insert(argv.end(), {"-n", ns});
  argv.insert(argv.end(), {"-s", "qdisc", "show", "dev", dev});
  const std::string out = run_checked(argv);
  const auto at = out.find(" Sent ");
  return {at == std::string::npos ? 0 : std::stoull(out.substr(at + 6)), out};
}

std::uint64_t veth_counter(const std::string& dev, const char* which) {
  std::ifstream in("/sys/class/net/" + dev + "/statistics/" + which);
  std::uint64_t v = 0;
  in >> v;
  return v;
}

}  // namespace

TEST_CASE("a shaped bastion link has its htb qdisc on both veth ends and the traffic goes through it", "[sshd]") {
  auto o = options_for({{"bastion"}, {"web01", "bastion"}});
  o.hosts[0].link_mbit = 8;  // 1 MB/s each way
  PLUGBOX_FLEET_OR_SKIP(fleet, o);
  const auto& b = fleet->host("bastion");
  // The pair's other end, in the bastion's namespace (fleet_plan.h: pbx<S>v<k>p / pbx<S>v<k>c).
  const std::string child_if = b.uplink_if.substr(0, b.uplink_if.size() - 1) + "c";
  REQUIRE(b.link_mbit == 8);
  REQUIRE_FALSE(b.uplink_if.empty());
  const auto [to_before, to_qdisc] = qdisc_sent("", b.uplink_if);
  const auto [from_before, from_qdisc] = qdisc_sent(b.netns, child_if);
  INFO(to_qdisc << from_qdisc);
  CHECK(to_qdisc.find("qdisc htb 1: root") != std::string::npos);
  CHECK(from_qdisc.find("qdisc htb 1: root") != std::string::npos);
  const std::uint64_t rx0 = veth_counter(b.uplink_if, "rx_bytes"), tx0 = veth_counter(b.uplink_if, "tx_bytes");

  constexpr std::uint64_t kBytes = 2'000'000;
  auto r = ssh_cfg(*fleet, {"web01", "head -c " + std::to_string(kBytes) + " /dev/zero"});
  REQUIRE(r.code == 0);
  CHECK(r.out.size() == kBytes);
  const std::uint64_t rx = veth_counter(b.uplink_if, "rx_bytes") - rx0;
  const std::uint64_t tx = veth_counter(b.uplink_if, "tx_bytes") - tx0;
  const auto to_after = qdisc_sent("", b.uplink_if).first;
  const auto from_after = qdisc_sent(b.netns, child_if).first;
  std::printf("2 MB over an 8 Mbit/s link in %.2f s: veth rx %llu, tx %llu bytes; qdisc sent %llu (to the bastion), "
              "%llu (back)\n",
              r.seconds, static_cast<unsigned long long>(rx), static_cast<unsigned long long>(tx),
              static_cast<unsigned long long>(to_after - to_before),
              static_cast<unsigned long long>(from_after - from_before));
  // The payload came back through the child end's htb, and the veth counts it.
  CHECK(from_after - from_before >= kBytes);
  CHECK(rx >= kBytes);
  CHECK(to_after > to_before);
  CHECK(tx > 0);
  // A load can only make this slower, never faster: at twice the shaped rate
  // (generous for htb's 64 KiB burst), 2 MB still needs a full second.
  CHECK(r.seconds >= double(kBytes) / (2 * 8e6 / 8));
}
