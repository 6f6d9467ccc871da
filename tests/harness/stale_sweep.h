// Leftovers of fleets whose owner died without its destructor running
// (SIGKILL, a ctest timeout, abort): namespaces, root-side veths, the
// unreachable route and temp dirs. Deciding what is stale is pure; sweeping
// runs one `ip -force -batch`.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace plugbox::testing {

inline constexpr const char* kTempPrefix = "pbx-fleet-";  // /tmp/pbx-fleet-<pid>-XXXXXX

// What to remove, given the current names and the slot just acquired: every
// pbx namespace of that slot (its owner is gone, or we could not hold it) or
// of a dead pid; every interface of that slot; temp dirs of dead pids.
struct StaleItems {
  std::vector<std::string> namespaces;
  std::vector<std::string> interfaces;
  std::vector<std::string> temp_dirs;  // names under the temp root
};
StaleItems find_stale(const std::vector<std::string>& netns_names, const std::vector<std::string>& interface_names,
                      const std::vector<std::string>& temp_names, int slot,
                      const std::function<bool(long pid)>& alive);

// Lists /run/netns, /sys/class/net, /proc/net/route and /tmp, removes what is
// stale for `slot` (which the caller holds). Errors are reported on stderr,
// never thrown: a failed sweep must not fail the test that triggered it.
void sweep_stale(int slot, const std::string& ip_program);

}  // namespace plugbox::testing
