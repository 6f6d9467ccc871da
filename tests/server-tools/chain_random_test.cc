// Randomized command sequences against a reference model (chain_model.h):
// after every step the exit status is the model's, the disk is the model's,
// the invariants hold, and a refused command changed nothing.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <random>

#include "chain_model.h"
#include "test_support.h"

using namespace plugbox::server::testing;

namespace {

unsigned test_seed() {
  if (const char* s = std::getenv("PLUGBOX_TEST_SEED")) return static_cast<unsigned>(std::strtoul(s, nullptr, 10));
  return 20261125u;
}

std::string check_against(const fs::path& home, const ChainModel& m) {
  DiskChain d = read_disk(home);
  std::string why = join_problems(d.problems);
  if (d.live != m.live) why += "live is '" + d.live + "', model '" + m.live + "'; ";
  if (d.prev != m.prev) why += "previous links differ from the model; ";
  if (d.next != m.next) why += "next links differ from the model; ";
  std::map<std::string, std::string> states;
  for (auto& [v, r] : m.ready) states[v] = r ? "ready" : "staged";
  if (d.state != states) why += "versions or states differ from the model; ";
  // "previous always means what was live before": the model sets it only from
  // the live version at next-version/upgrade-to (and splices it on remove).
  if (!m.live.empty() && slurp(home / "live" / "marker") != m.live) why += "HOME/live does not reach the live tree; ";
  for (auto& [v, _] : m.ready)
    for (const auto& e : fs::directory_iterator(home / "deploy" / v)) {
      auto n = e.path().filename().string();
      if (n != "marker" && n != "previous" && n != "next") why += "stray " + n + " in " + v + "; ";
    }
  if (!fs::is_empty(home / "deploy/.plugbox/tmp") || !fs::is_empty(home / "deploy/.plugbox/trash"))
    why += "leftovers in .plugbox/tmp or trash; ";
  return why;
}

}  // namespace

TEST_CASE("randomized command sequences keep the chain consistent", "[chain][random][slow]") {
  const unsigned seed = test_seed();
  WARN("randomized chain test: seed " << seed << " (PLUGBOX_TEST_SEED=N replays another)");
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const int sequences = 200, steps = 20, names = 7;
  int changes = 0, refusals = 0;

  for (int seq = 0; seq < sequences; ++seq) {
    TempDir t(TempDir::in_memory());
    const fs::path home = init_home(t);
    ChainModel m;
    std::string history;
    for (int step = 0; step < steps; ++step) {
      const std::string v = vname(pick(names));
      std::vector<std::string> args;
      ChainModel want = m;
      int expect = 0;
      const int roll = pick(100);
      if (roll < 22) {
        args = {"next-version", "--name", v};
        expect = want.next_version(v);
      } else if (roll < 40) {
        args = {"seal", v};
        expect = want.seal(v);
      } else if (roll < 60) {
        args = {"upgrade-to", v};
        expect = want.upgrade_to(v);
      } else if (roll < 70) {
        args = {"rollback-to"};
        expect = want.rollback_to("");
      } else if (roll < 77) {
        args = {"rollback-to", v};
        expect = want.rollback_to(v);
      } else if (roll < 89) {
        args = {"remove", v};
        expect = want.remove(v);
      } else if (roll < 96) {
        const int keep = pick(5);
        args = {"gc", "--keep", std::to_string(keep)};
        expect = want.gc(keep) ? 0 : 2;
      } else if (roll < 98) {
        args = {pick(2) ? "upgrade-to" : "remove", "2026-02-30T00:00:00"};
        expect = 2;
      } else {
        args = {"init"};
      }
      if (expect != 0) want = m;  // a refused command changes nothing
      for (auto& a : args) history += a + " ";
      history += "; ";
      INFO("seed " << seed << ", sequence " << seq << ", step " << step << ": " << history);

      const Snapshot before = expect != 0 ? snapshot(home) : Snapshot{};
      CliResult r = cli(home, args);
      INFO(describe(r));
      REQUIRE(r.rc == expect);
      if (expect != 0) {
        REQUIRE(snapshot_diff(before, snapshot(home)) == "");
        ++refusals;
      } else {
        ++changes;
      }
      if (args[0] == "next-version" && expect == 0)  // the "upload"
        std::ofstream(home / "deploy" / v / "marker") << v;
      m = want;
      REQUIRE(check_against(home, m) == "");
    }
  }
  WARN(changes << " commands succeeded, " << refusals << " were refused as the model expected");
}
