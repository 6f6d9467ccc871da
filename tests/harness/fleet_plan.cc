#include "tests/harness/fleet_plan.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <stdexcept>

namespace plugbox::testing {
namespace {

std::string where(size_t i, const std::string& name) {
  return "FleetOptions.hosts[" + std::to_string(i) + "] (\"" + name + "\")";
}

// Names become directory names, TOML keys and ssh_config Host patterns: keep
// them to characters that need no quoting anywhere.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] == '.' || s[0] == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

std::string quad(int a, int b, int c, int d) {
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." + std::to_string(d);
}

bool parse_number(std::string_view s, long* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

const HostPlan& FleetPlan::host(std::string_view name) const {
  for (const auto& h : hosts)
    if (h.name == name) return h;
  throw std::out_of_range("no host named '" + std::string(name) + "' in this fleet");
}

std::string netns_name(long pid, int slot, int index) {
  return "pbx" + std::to_string(pid) + "-" + std::to_string(slot) + "-" + std::to_string(index);
}

std::string veth_prefix(int slot) { return "pbx" + std::to_string(slot) + "v"; }

bool parse_netns_name(std::string_view name, long* pid, int* slot) {
  if (name.substr(0, 3) != "pbx") return false;
  name.remove_prefix(3);
  auto d1 = name.find('-');
  if (d1 == std::string_view::npos) return false;
  auto d2 = name.find('-', d1 + 1);
  if (d2 == std::string_view::npos) return false;
  long p = 0, s = 0, k = 0;
  if (!parse_number(name.substr(0, d1), &p) || !parse_number(name.substr(d1 + 1, d2 - d1 - 1), &s) ||
      !parse_number(name.substr(d2 + 1), &k))
    return false;
  *pid = p;
  *slot = static_cast<int>(s);
  return true;
}

FleetPlan plan_fleet(const FleetOptions& options, int slot, long pid) {
  if (slot < 0 || slot >= kSlots) throw std::invalid_argument("slot " + std::to_string(slot) + " out of range");
  if (options.hosts.empty()) throw std::invalid_argument("FleetOptions.hosts is empty: list at least one host");
  const int port = options.port == 0 ? kDefaultPort : options.port;
  if (port < 1 || port > 65535)
    throw std::invalid_argument("FleetOptions.port = " + std::to_string(options.port) +
                                ": use 1..65535 (or 0 for the default " + std::to_string(kDefaultPort) + ")");

  // Validate every name and link first, so the error names the first bad entry.
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < options.hosts.size(); ++i) {
    const auto& h = options.hosts[i];
    if (!valid_name(h.name))
      throw std::invalid_argument(where(i, h.name) +
                                  ": name must be 1-64 of [A-Za-z0-9_.-], not starting with '.' or '-'");
    if (index.count(h.name)) throw std::invalid_argument(where(i, h.name) + ": duplicate host name");
    if (h.behind == h.name) throw std::invalid_argument(where(i, h.name) + ": a host cannot be behind itself");
    if (!h.behind.empty() && !index.count(h.behind))
      throw std::invalid_argument(where(i, h.name) + ": behind = \"" + h.behind +
                                  "\" names no host listed before it (list jump hosts first)");
    if (h.link_mbit < 0 || h.link_mbit > 100000)
      throw std::invalid_argument(where(i, h.name) + ": link_mbit = " + std::to_string(h.link_mbit) +
                                  ": use 1..100000 Mbit/s (or 0 for an unshaped link)");
    for (const auto& g : h.groups) {
      if (!valid_name(g))
        throw std::invalid_argument(where(i, h.name) + ": group \"" + g +
                                    "\" must be 1-64 of [A-Za-z0-9_.-], not starting with '.' or '-'");
      if (g == "all" || g == "leaves")
        throw std::invalid_argument(where(i, h.name) + ": group \"" + g +
                                    "\" is made by the harness itself; choose another name");
    }
    index[h.name] = i;
  }

  FleetPlan plan;
  plan.slot = slot;
  plan.pid = pid;
  const int x = slot + 1;
  plan.unreachable_net = quad(198, 18, x, 0) + "/24";

  std::vector<bool> is_jump(options.hosts.size(), false);
  for (const auto& h : options.hosts)
    if (!h.behind.empty()) is_jump[index[h.behind]] = true;
  const auto jumps = std::count(is_jump.begin(), is_jump.end(), true);
  for (size_t i = 0; i < options.hosts.size(); ++i)
    if (options.hosts[i].link_mbit > 0 && !is_jump[i])
      throw std::invalid_argument(where(i, options.hosts[i].name) +
                                  ": link_mbit shapes the link into a jump host's namespace, and no host is "
                                  "behind this one (a direct host has no link of its own)");
  if (jumps > kMaxJumpHosts)
    throw std::invalid_argument("FleetOptions.hosts: " + std::to_string(jumps) + " jump hosts; at most " +
                                std::to_string(kMaxJumpHosts) + " are supported");
  if (static_cast<long>(options.hosts.size()) - jumps > kMaxHosts)
    throw std::invalid_argument("FleetOptions.hosts: more than " + std::to_string(kMaxHosts) + " hosts");

  int next_link = 0, next_loopback = 0;
  for (size_t i = 0; i < options.hosts.size(); ++i) {
    const auto& spec = options.hosts[i];
    HostPlan h;
    h.name = spec.name;
    h.behind = spec.behind;
    h.groups = spec.groups;
    h.port = port;
    h.is_jump = is_jump[i];
    std::string parent_netns;
    if (!spec.behind.empty()) {
      const HostPlan& j = plan.hosts[index[spec.behind]];
      h.jump_chain = j.jump_chain;
      h.jump_chain.push_back(j.name);
      parent_netns = j.inner_netns;
    }
    if (h.is_jump) {
      const int k = next_link++;
      LinkPlan link;
      link.parent_netns = parent_netns;
      link.child_netns = netns_name(pid, slot, k);
      link.parent_if = veth_prefix(slot) + std::to_string(k) + "p";
      link.child_if = veth_prefix(slot) + std::to_string(k) + "c";
      link.parent_address = quad(198, 18, x, 4 * k + 1);
      link.child_address = quad(198, 18, x, 4 * k + 2);
      link.mbit = spec.link_mbit;
      h.uplink_if = link.parent_if;
      h.link_mbit = spec.link_mbit;
      plan.namespaces.push_back(link.child_netns);
      h.netns = h.inner_netns = link.child_netns;
      h.address = link.child_address;
      plan.links.push_back(std::move(link));
    } else {
      const int n = next_loopback++;
      h.netns = parent_netns;
      h.address = quad(127, n / 250, x, 1 + n % 250);
    }
    plan.hosts.push_back(std::move(h));
  }
  return plan;
}

std::string root_setup_batch(const FleetPlan& plan) {
  std::string s;
  for (const auto& ns : plan.namespaces) s += "netns add " + ns + "\n";
  for (const auto& l : plan.links) {
    // Both ends are created here (names are unique per slot) and then moved,
    // which works the same for a link between two non-root namespaces.
    s += "link add " + l.parent_if + " type veth peer name " + l.child_if + "\n";
    s += "link set " + l.child_if + " netns " + l.child_netns + "\n";
    if (!l.parent_netns.empty()) {
      s += "link set " + l.parent_if + " netns " + l.parent_netns + "\n";
    } else {
      s += "addr add " + l.parent_address + "/30 dev " + l.parent_if + "\n";
      s += "link set " + l.parent_if + " up\n";
    }
  }
  // replace: a stale route left by a killed run must not fail the setup.
  if (!plan.links.empty()) s += "route replace unreachable " + plan.unreachable_net + "\n";
  return s;
}

std::vector<std::pair<std::string, std::string>> netns_setup_batches(const FleetPlan& plan) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& ns : plan.namespaces) {
    std::string s = "link set lo up\n";
    for (const auto& l : plan.links) {
      if (l.child_netns == ns) {
        s += "addr add " + l.child_address + "/30 dev " + l.child_if + "\n";
        s += "link set " + l.child_if + " up\n";
      }
      if (l.parent_netns == ns) {
        s += "addr add " + l.parent_address + "/30 dev " + l.parent_if + "\n";
        s += "link set " + l.parent_if + " up\n";
      }
    }
    out.emplace_back(ns, std::move(s));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> shaping_batches(const FleetPlan& plan) {
  // htb's quantum defaults to rate / r2q, which tc calls "big" at these
  // rates (a warning on every start); one class shares with nobody, so any
  // value works. burst: a veth hands over GSO packets of up to 64 KiB.
  auto shape = [](const std::string& dev, int mbit) {
    const std::string rate = std::to_string(mbit) + "mbit";
    return "qdisc add dev " + dev + " root handle 1: htb default 1\n" + "class add dev " + dev +
           " parent 1: classid 1:1 htb rate " + rate + " ceil " + rate + " burst 64k cburst 64k quantum 65536\n";
  };
  std::vector<std::pair<std::string, std::string>> out;
  auto script_of = [&out](const std::string& ns) -> std::string& {
    for (auto& [n, s] : out)
      if (n == ns) return s;
    return out.emplace_back(ns, std::string()).second;
  };
  for (const auto& l : plan.links)
    if (l.mbit > 0 && l.parent_netns.empty()) script_of("") += shape(l.parent_if, l.mbit);
  for (const auto& ns : plan.namespaces)
    for (const auto& l : plan.links) {
      if (l.mbit <= 0) continue;
      if (l.parent_netns == ns) script_of(ns) += shape(l.parent_if, l.mbit);
      if (l.child_netns == ns) script_of(ns) += shape(l.child_if, l.mbit);
    }
  return out;
}

std::string teardown_batch(const FleetPlan& plan) {
  std::string s;
  // Deleting the root-side end removes the pair at once; the others go with
  // their namespaces.
  for (const auto& l : plan.links)
    if (l.parent_netns.empty()) s += "link del " + l.parent_if + "\n";
  if (!plan.links.empty()) s += "route del unreachable " + plan.unreachable_net + "\n";
  for (auto it = plan.namespaces.rbegin(); it != plan.namespaces.rend(); ++it) s += "netns del " + *it + "\n";
  return s;
}

}  // namespace plugbox::testing
