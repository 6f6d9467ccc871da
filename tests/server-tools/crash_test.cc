// kill -9 the real plugbox-server at random moments of upgrade-to and
// rollback-to. After every kill, live must be the old or the new version and
// resolve to a complete tree, the chain must be consistent, and when live has
// switched the links must already say so (upgrade-to writes them first).
// Re-running the command must then complete it exactly.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <random>
#include <thread>

#include "chain_model.h"
#include "test_support.h"

using namespace plugbox::server::testing;
using namespace std::chrono_literals;

namespace {

unsigned test_seed() {
  if (const char* s = std::getenv("PLUGBOX_TEST_SEED")) return static_cast<unsigned>(std::strtoul(s, nullptr, 10));
  return 4242u;
}

std::string value_or_empty(const std::map<std::string, std::string>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? "" : it->second;
}

}  // namespace

TEST_CASE("kill -9 during upgrade-to and rollback-to leaves live and the chain consistent",
          "[crash][process][slow]") {
  const unsigned seed = test_seed();
  WARN("crash test: seed " << seed << " (PLUGBOX_TEST_SEED=N replays another)");
  std::mt19937 rng(seed);
  TempDir t;
  const fs::path home = init_home(t);
  ChainModel m;
  std::vector<std::string> versions;
  for (int i = 1; i <= 4; ++i) {
    versions.push_back(vname(i));
    deploy(home, vname(i));
    m.next_version(vname(i));
    m.seal(vname(i));
    m.upgrade_to(vname(i));
  }

  // How long one command takes, from spawn to exit: kills are spread over it.
  std::vector<long> durations;
  for (int i = 0; i < 5; ++i) {
    const std::string to = versions[static_cast<size_t>(i % 2)];
    auto t0 = std::chrono::steady_clock::now();
    Child c(server_argv(home, {"rollback-to", to}));
    REQUIRE(c.wait() == 0);
    durations.push_back(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
    m.rollback_to(to);
  }
  std::sort(durations.begin(), durations.end());
  // Most of a run is process start-up (and, under ASan, exit); the changes
  // are a short stretch in between. The kill moment is drawn at random within
  // 10% of an estimate of when live switches, and the estimate follows what
  // the kills find (switched: earlier; not yet: later), so kills keep landing
  // before, inside and after the window of changes whatever the build's speed
  // (the counts are printed at the end).
  double estimate_us = static_cast<double>(durations[2]) * 0.7;
  std::uniform_real_distribution<double> spread(0.9, 1.1);

  const int iterations = 300;
  const auto budget = 60s;  // a loaded machine runs fewer, not longer
  const auto start = std::chrono::steady_clock::now();
  int ran = 0, untouched = 0, partial = 0, switched = 0, finished = 0;
  for (int i = 0; i < iterations && std::chrono::steady_clock::now() - start < budget; ++i, ++ran) {
    // Pick a command that changes something.
    std::string target;
    do target = versions[rng() % versions.size()]; while (target == m.live);
    std::vector<std::string> args, rerun;
    ChainModel after = m;
    const unsigned kind = rng() % 3;
    if (kind == 0) {
      args = rerun = {"upgrade-to", target};
      after.upgrade_to(target);
    } else if (kind == 1 || !m.prev.count(m.live) || m.prev.at(m.live) == m.live) {
      args = rerun = {"rollback-to", target};
      after.rollback_to(target);
    } else {
      target = m.prev.at(m.live);
      args = {"rollback-to"};
      rerun = {"rollback-to", target};  // re-running the default would go back once more
      after.rollback_to("");
    }
    std::string shown;
    for (auto& a : args) shown += a + " ";
    INFO("seed " << seed << ", iteration " << i << ": " << shown << "(live was " << m.live << ")");

    {
      Child c(server_argv(home, args));
      std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long>(estimate_us * spread(rng))));
      c.kill9();
      const int st = c.wait();
      REQUIRE((st == 0 || st == 128 + SIGKILL));
      if (st == 0) ++finished;
    }

    DiskChain d = read_disk(home);
    INFO(join_problems(d.problems));
    REQUIRE(d.problems.empty());
    REQUIRE((d.live == m.live || d.live == after.live));
    REQUIRE(slurp(home / "live" / "marker") == d.live);  // a complete version
    for (const auto& v : versions) {
      REQUIRE(d.state.at(v) == "ready");
      REQUIRE(slurp(home / "deploy" / v / "marker") == v);
      for (const auto& e : fs::directory_iterator(home / "deploy" / v)) {
        const auto n = e.path().filename().string();
        REQUIRE((n == "marker" || n == "previous" || n == "next"));  // no temporaries inside versions
      }
      // Each link is the old value or the new one.
      const std::string p = value_or_empty(d.prev, v), n = value_or_empty(d.next, v);
      REQUIRE((p == value_or_empty(m.prev, v) || p == value_or_empty(after.prev, v)));
      REQUIRE((n == value_or_empty(m.next, v) || n == value_or_empty(after.next, v)));
    }
    // Write order of upgrade-to: V/previous, then L/next, then live.
    if (!m.live.empty() && args[0] == "upgrade-to") {
      const bool next_done = value_or_empty(d.next, m.live) == target && value_or_empty(m.next, m.live) != target;
      if (next_done) REQUIRE(value_or_empty(d.prev, target) == m.live);
    }
    if (d.live == after.live) {
      REQUIRE(d.prev == after.prev);
      REQUIRE(d.next == after.next);
    }
    if (d.live == after.live) ++switched;
    else if (d.prev != m.prev || d.next != m.next) ++partial;
    else ++untouched;
    estimate_us *= d.live == after.live ? 0.97 : 1.03;

    // Re-running completes it, exactly as the model says.
    Child again(server_argv(home, rerun));
    REQUIRE(again.wait() == 0);
    DiskChain done = read_disk(home);
    REQUIRE(done.problems.empty());
    REQUIRE(done.live == after.live);
    REQUIRE(done.prev == after.prev);
    REQUIRE(done.next == after.next);
    m = after;
  }
  WARN("crash test: " << ran << " kills (a run takes about " << durations[2] << " us; the switch came after about "
                      << static_cast<long>(estimate_us) << " us): " << untouched
                      << " before any change, " << partial << " with links written but live not yet switched, "
                      << switched << " after the switch (" << finished << " of them had exited already)");
  CHECK(ran >= 50);
}
