// The fleet's topology as a pure value: which namespace each sshd runs in,
// its address and port, the veth links between namespaces, and the `ip -batch`
// scripts that build and remove them. Computed before anything starts, so it
// is tested without root.
//
// Layout for slot S (0..kSlots-1, held exclusively by one live fleet, see
// slot_lock.h), X = S + 1:
//   - host i (counting only hosts that are not jump hosts) listens on
//     127.(i/250).X.(1 + i%250): unique in the whole fleet, so known_hosts
//     has one line per address, and unique across concurrent fleets;
//   - a jump host (one with hosts behind it) runs in its own namespace
//     pbx<pid>-<S>-<k>, joined to its parent's namespace (root, or its own
//     jump host's) by veth pbx<S>v<k>p (parent side, 198.18.X.(4k+1)/30) and
//     pbx<S>v<k>c (its side, 198.18.X.(4k+2)/30), where it listens;
//   - a host behind J listens on J's namespace's own loopback, which nothing
//     outside that namespace can reach (no forwarding, no routes);
//   - the root namespace gets `unreachable 198.18.X.0/24`, so a direct connect
//     to an address inside the fleet fails at once instead of timing out on
//     the default route.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/harness/fleet_options.h"

namespace plugbox::testing {

inline constexpr int kSlots = 250;
inline constexpr int kMaxJumpHosts = 64;      // /30 links in one /24
inline constexpr int kMaxHosts = 250 * 250;   // loopback addresses per slot

struct HostPlan {
  std::string name;
  std::string behind;                   // "" = direct
  std::vector<std::string> jump_chain;  // outermost first
  std::vector<std::string> groups;      // as given in HostSpec
  bool is_jump = false;                 // has hosts behind it: runs in its own namespace
  std::string netns;                    // where its sshd runs ("" = root namespace)
  std::string inner_netns;              // jump hosts: the namespace its hosts run in (== netns)
  std::string address;
  int port = 0;
  std::string uplink_if;  // jump hosts: LinkPlan::parent_if of the link into its namespace
  int link_mbit = 0;      // jump hosts: that link's rate (0 = unshaped)
};

// A veth pair joining a jump host's namespace (child) to its parent's.
struct LinkPlan {
  std::string parent_netns;  // "" = root namespace
  std::string child_netns;
  std::string parent_if, child_if;
  std::string parent_address, child_address;  // dotted quads, /30
  int mbit = 0;  // each direction; 0 = unshaped (HostSpec::link_mbit)
};

struct FleetPlan {
  int slot = 0;
  long pid = 0;
  std::vector<std::string> namespaces;  // parents before children
  std::vector<LinkPlan> links;
  std::string unreachable_net;          // "198.18.X.0/24"
  std::vector<HostPlan> hosts;          // in FleetOptions order

  const HostPlan& host(std::string_view name) const;  // throws std::out_of_range
};

// Throws std::invalid_argument naming the offending FleetOptions.hosts[i] and
// what to change.
FleetPlan plan_fleet(const FleetOptions& options, int slot, long pid);

// Namespace and interface names of a slot, used by the stale sweep.
std::string netns_name(long pid, int slot, int index);
std::string veth_prefix(int slot);  // "pbx<S>v": every interface of the slot
// Parses "pbx<pid>-<slot>-<k>"; false for any other name.
bool parse_netns_name(std::string_view name, long* pid, int* slot);

// `ip -batch` script run in the root namespace: creates the namespaces and
// veth pairs, moves each end where it belongs, configures the root-side ends.
std::string root_setup_batch(const FleetPlan& plan);
// (namespace, script) for each namespace: loopback up, its veth ends configured.
std::vector<std::pair<std::string, std::string>> netns_setup_batches(const FleetPlan& plan);
// (namespace, `tc -batch` script) for each namespace with a shaped veth end,
// the root namespace ("") first: an htb root qdisc whose one default class
// has the link's rate, on BOTH ends of the link, since a qdisc shapes only
// what leaves its interface (parent end: towards the jump host; child end:
// back towards the client). Empty when no link is shaped.
std::vector<std::pair<std::string, std::string>> shaping_batches(const FleetPlan& plan);
// Root-namespace script (run with -force) removing everything setup made.
std::string teardown_batch(const FleetPlan& plan);

}  // namespace plugbox::testing
