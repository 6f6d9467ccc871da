// What counts as a leftover: namespaces of the slot just taken or of dead
// pids, the slot's interfaces, temp dirs of dead pids; nothing else.
#include "tests/harness/stale_sweep.h"

#include <catch2/catch.hpp>
#include <set>

using namespace plugbox::testing;

TEST_CASE("stale items: the taken slot's namespaces and interfaces, dead pids' namespaces and temp dirs") {
  const std::set<long> alive{100, 200};
  auto is_alive = [&](long pid) { return alive.count(pid) > 0; };
  auto s = find_stale(
      {"pbx100-5-0", "pbx100-7-0", "pbx100-7-1", "pbx300-9-0", "pbx200-8-2", "pbxtest-1", "other", "pbx1-x-0"},
      {"lo", "eth0", "pbx7v0p", "pbx7v12p", "pbx70v0p", "pbx17v0p", "pbx7"},
      {"pbx-fleet-100-abcdef", "pbx-fleet-300-abcdef", "pbx-fleet-x-abc", "pbx-fleetish", "systemd-private-1"},
      7, is_alive);
  // Slot 7 is ours now: whoever made pbx100-7-* no longer holds it, even if pid 100 lives.
  CHECK(s.namespaces == std::vector<std::string>{"pbx100-7-0", "pbx100-7-1", "pbx300-9-0"});
  CHECK(s.interfaces == std::vector<std::string>{"pbx7v0p", "pbx7v12p"});
  CHECK(s.temp_dirs == std::vector<std::string>{"pbx-fleet-300-abcdef"});
}

TEST_CASE("nothing is stale on a clean machine") {
  auto s = find_stale({}, {"lo"}, {"tmp.x"}, 0, [](long) { return false; });
  CHECK(s.namespaces.empty());
  CHECK(s.interfaces.empty());
  CHECK(s.temp_dirs.empty());
}
