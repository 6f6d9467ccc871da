// The deploy lock and the oplock, with real second processes: the holder is
// the real `plugbox-server lock` binary.
#include "server-tools/lock.h"

#include <catch2/catch.hpp>
#include <thread>

#include "server-tools/oplog.h"
#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;
using namespace std::chrono_literals;

namespace {

// Starts `plugbox-server lock --owner OWNER` and waits for its "locked" line.
std::unique_ptr<Child> hold_lock(const fs::path& home, const std::string& owner) {
  auto c = std::make_unique<Child>(server_argv(home, {"lock", "--owner", owner}));
  auto line = c->read_line(20s);
  INFO(c->drain_stderr());
  REQUIRE(line);
  CHECK(line->rfind("locked by owner '" + owner + "' (host ", 0) == 0);
  CHECK(line->find("pid " + std::to_string(c->pid())) != std::string::npos);
  return c;
}

}  // namespace

TEST_CASE("LockHolder round-trips through the lock file's JSON", "[lock]") {
  LockHolder h{"deploy-1", "web01", 42, "2026-11-25T21:40:00Z"};
  auto back = LockHolder::from_json(h.to_json_line());
  REQUIRE(back);
  CHECK(back->owner == "deploy-1");
  CHECK(back->host == "web01");
  CHECK(back->pid == 42);
  CHECK(back->since == "2026-11-25T21:40:00Z");
  CHECK(h.describe() == "owner 'deploy-1' (host web01, pid 42, since 2026-11-25T21:40:00Z)");
  CHECK_FALSE(LockHolder::from_json(""));
  CHECK_FALSE(LockHolder::from_json("{}"));
  CHECK(owner_problem("deploy-1") == std::nullopt);
  CHECK(owner_problem("a\nb"));
  CHECK(owner_problem(std::string(201, 'x')));
}

TEST_CASE("a held lock refuses other owners at once, naming the holder", "[lock][process]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2);
  deploy(home, a);
  make_ready(home, b);
  auto holder = hold_lock(home, "deploy-A");

  const Snapshot before = snapshot(home);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"upgrade-to", b}, {"--owner", "deploy-B", "upgrade-to", b}, {"remove", b},
        {"next-version", "--name", vname(3)}, {"gc", "--keep", "2"}}) {
    CliResult r = cli(home, args);
    INFO(describe(r));
    CHECK(r.rc == 1);
    CHECK(r.err.find("the deploy lock is held by owner 'deploy-A' (host ") != std::string::npos);
    CHECK(r.err.find("pid " + std::to_string(holder->pid()) + ", since 20") != std::string::npos);
    // Advice that fits plugbox-server and plugbox alike (plugbox has no --wait or --owner).
    CHECK(r.err.find("retry once it has finished (`plugbox fleet status` shows who holds each host's lock)") !=
          std::string::npos);
    CHECK(r.err.find("--wait") == std::string::npos);
    CHECK(r.err.find("--owner") == std::string::npos);
    CHECK(r.err.find('\n') == r.err.size() - 1);
  }
  CHECK(snapshot(home) == before);

  // Status names the holder and is not blocked.
  auto j = nlohmann::json::parse(cli(home, {"status", "--json"}).out);
  REQUIRE(j["lock"].is_object());
  CHECK(j["lock"]["owner"] == "deploy-A");
  CHECK(j["lock"]["pid"] == holder->pid());
  CHECK(cli(home, {"status"}).out.find("lock:  held by owner 'deploy-A'") != std::string::npos);

  // init on a complete layout needs no lock: a deploy's init then fails only at `lock`.
  CliResult ri = cli(home, {"init"});
  CHECK(ri.rc == 0);
  CHECK(ri.out.find("already initialised") != std::string::npos);

  // A second lock process is refused even for the same owner.
  Child second(server_argv(home, {"lock", "--owner", "deploy-A"}));
  CHECK(second.wait() == 1);
  CHECK(second.drain_stderr().find("held by owner 'deploy-A'") != std::string::npos);

  // Closing stdin releases it: the process exits 0 and the holder line is cleared.
  holder->close_stdin();
  CHECK(holder->wait() == 0);
  CHECK(slurp(home / "deploy/.plugbox/lock").empty());
  CHECK(nlohmann::json::parse(cli(home, {"status", "--json"}).out)["lock"].is_null());
  CHECK(cli(home, {"upgrade-to", b}).rc == 0);
}

TEST_CASE("the holder's own commands run under its lock (--owner or PLUGBOX_LOCK_OWNER)", "[lock][process]") {
  TempDir t;
  const auto home = init_home(t);
  auto holder = hold_lock(home, "deploy-A");
  const std::string a = vname(1), b = vname(2);
  CHECK(cli(home, {"--owner", "deploy-A", "next-version", "--name", a}).rc == 0);
  CHECK(cli(home, {"seal", a, "--owner", "deploy-A"}).rc == 0);  // global options may follow
  CHECK(cli(home, {"upgrade-to", a}, {{"PLUGBOX_LOCK_OWNER", "deploy-A"}}).rc == 0);
  CHECK(cli(home, {"next-version", "--name", b}, {{"PLUGBOX_LOCK_OWNER", "deploy-B"}}).rc == 1);
  auto log = read_changes(home / "deploy/.plugbox/log");
  CHECK(log.back()["owner"] == "deploy-A");
  CHECK(log.back()["command"] == "upgrade-to");
  // The lock is still held by the holder afterwards.
  CHECK(nlohmann::json::parse(cli(home, {"status", "--json"}).out)["lock"]["owner"] == "deploy-A");
}

TEST_CASE("wait: a command gives up after the wait, or proceeds once the lock is released", "[lock][process]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1);
  make_ready(home, a);
  auto holder = hold_lock(home, "deploy-A");

  auto t0 = std::chrono::steady_clock::now();
  CliResult r = cli(home, {"--wait", "0.3", "upgrade-to", a});
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(r.rc == 1);
  CHECK(r.err.find("held by owner 'deploy-A'") != std::string::npos);
  CHECK(r.err.find("was not released within 0.3 s") != std::string::npos);
  CHECK(waited >= 300ms);

  // A command with a longer wait proceeds once the holder lets go.
  std::thread release([&] {
    std::this_thread::sleep_for(200ms);
    holder->close_stdin();
  });
  r = cli(home, {"--wait", "30", "--owner", "deploy-C", "upgrade-to", a});
  release.join();
  CHECK(r.rc == 0);
  CHECK(holder->wait() == 0);
  CHECK(link_of(home / "deploy/live") == a);
}

TEST_CASE("a waiting lock prints its line only once it holds the lock", "[lock][process]") {
  TempDir t;
  const auto home = init_home(t);
  auto holder = hold_lock(home, "deploy-A");
  Child waiter(server_argv(home, {"--wait", "30", "lock", "--owner", "deploy-B"}));
  CHECK_FALSE(waiter.read_line(300ms));
  holder->close_stdin();
  CHECK(holder->wait() == 0);
  auto line = waiter.read_line(20s);
  REQUIRE(line);
  CHECK(line->rfind("locked by owner 'deploy-B'", 0) == 0);
  CHECK(nlohmann::json::parse(cli(home, {"status", "--json"}).out)["lock"]["owner"] == "deploy-B");
  waiter.close_stdin();
  CHECK(waiter.wait() == 0);
}

TEST_CASE("a killed holder releases the lock and its stale line is ignored", "[lock][process]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1);
  make_ready(home, a);
  auto holder = hold_lock(home, "deploy-A");
  holder->kill9();
  holder->wait();
  CHECK(slurp(home / "deploy/.plugbox/lock").find("deploy-A") != std::string::npos);  // stale
  CHECK(nlohmann::json::parse(cli(home, {"status", "--json"}).out)["lock"].is_null());
  CHECK(cli(home, {"--owner", "someone-else", "upgrade-to", a}).rc == 0);
}

TEST_CASE("the oplock serialises commands of the same owner", "[lock][process]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1);
  make_ready(home, a);
  const Layout l(home);
  {
    // Hold the oplock as a running command would: the child must wait for it.
    std::optional<Flock> op = Flock::acquire(l.oplock(), Flock::Mode::exclusive);
    Child c(server_argv(home, {"upgrade-to", a}));
    std::this_thread::sleep_for(300ms);
    CHECK_FALSE(c.poll_exit());
    CHECK(link_of(home / "deploy/live").empty());
    // Readers wait too: status never sees a half-done command.
    Child s(server_argv(home, {"status", "--json"}));
    std::this_thread::sleep_for(100ms);
    CHECK_FALSE(s.poll_exit());
    op.reset();  // as the running command ends
    CHECK(c.wait() == 0);
    CHECK(s.wait() == 0);
  }
  CHECK(link_of(home / "deploy/live") == a);
}

TEST_CASE("acquire_for_mutation and probe_deploy_lock in-process", "[lock]") {
  TempDir t;
  const auto home = init_home(t);
  const Layout l(home);
  CHECK_FALSE(probe_deploy_lock(l));
  {
    MutationGuard g = acquire_for_mutation(l, {"", 0ms});
    CHECK_FALSE(g.under_held_lock());
  }
  HeldLock held = acquire_deploy_lock(l, {"me", 0ms});
  CHECK(held.holder().owner == "me");
  CHECK(held.holder().pid == ::getpid());
  auto p = probe_deploy_lock(l);
  REQUIRE(p);
  CHECK(p->owner == "me");
  MutationGuard g = acquire_for_mutation(l, {"me", 0ms});
  CHECK(g.under_held_lock());
  REQUIRE(g.holder());
  CHECK(g.holder()->owner == "me");
}
