// The fleet's topology as a value: addresses, namespaces, links, chains, the
// ip batch scripts, and the one-line errors for bad options. No root needed.
#include "tests/harness/fleet_plan.h"

#include <catch2/catch.hpp>
#include <set>
#include <stdexcept>

using namespace plugbox::testing;

namespace {

FleetOptions opts(std::vector<HostSpec> hosts) {
  FleetOptions o;
  o.hosts = std::move(hosts);
  return o;
}

std::string error_of(const FleetOptions& o) {
  try {
    plan_fleet(o, 3, 4242);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("direct hosts listen on distinct loopback addresses of their slot, in the root namespace") {
  auto plan = plan_fleet(opts({{"a"}, {"b"}, {"c"}}), 7, 1234);
  REQUIRE(plan.hosts.size() == 3);
  CHECK(plan.hosts[0].address == "127.0.8.1");
  CHECK(plan.hosts[1].address == "127.0.8.2");
  CHECK(plan.hosts[2].address == "127.0.8.3");
  for (const auto& h : plan.hosts) {
    CHECK(h.netns.empty());
    CHECK(h.port == kDefaultPort);
    CHECK(h.jump_chain.empty());
    CHECK_FALSE(h.is_jump);
  }
  CHECK(plan.namespaces.empty());
  CHECK(plan.links.empty());
  // No namespaces: nothing for ip to do, nothing to tear down.
  CHECK(root_setup_batch(plan).empty());
  CHECK(netns_setup_batches(plan).empty());
  CHECK(teardown_batch(plan).empty());
}

TEST_CASE("the 251st loopback host moves to the next /16 and addresses never repeat") {
  std::vector<HostSpec> hosts;
  for (int i = 0; i < 600; ++i) hosts.push_back({"h" + std::to_string(i)});
  auto plan = plan_fleet(opts(hosts), 0, 1);
  CHECK(plan.hosts[249].address == "127.0.1.250");
  CHECK(plan.hosts[250].address == "127.1.1.1");
  CHECK(plan.hosts[599].address == "127.2.1.100");
  std::set<std::string> seen;
  for (const auto& h : plan.hosts) seen.insert(h.address);
  CHECK(seen.size() == 600);
}

TEST_CASE("a jump host gets its own namespace on a veth - its hosts run on that namespace's loopback") {
  auto plan = plan_fleet(opts({{"bastion"}, {"web01", "bastion"}, {"web02", "bastion"}, {"db"}}), 3, 4242);
  const auto& b = plan.host("bastion");
  CHECK(b.is_jump);
  CHECK(b.netns == "pbx4242-3-0");
  CHECK(b.inner_netns == "pbx4242-3-0");
  CHECK(b.address == "198.18.4.2");
  CHECK(b.jump_chain.empty());

  const auto& w1 = plan.host("web01");
  CHECK_FALSE(w1.is_jump);
  CHECK(w1.netns == "pbx4242-3-0");
  CHECK(w1.address == "127.0.4.1");  // jump hosts take no loopback address
  CHECK(w1.jump_chain == std::vector<std::string>{"bastion"});
  CHECK(plan.host("web02").address == "127.0.4.2");
  CHECK(plan.host("db").netns.empty());
  CHECK(plan.host("db").address == "127.0.4.3");

  REQUIRE(plan.links.size() == 1);
  const auto& l = plan.links[0];
  CHECK(l.parent_netns.empty());
  CHECK(l.child_netns == "pbx4242-3-0");
  CHECK(l.parent_if == "pbx3v0p");
  CHECK(l.child_if == "pbx3v0c");
  CHECK(l.parent_address == "198.18.4.1");
  CHECK(l.child_address == "198.18.4.2");
  CHECK(plan.unreachable_net == "198.18.4.0/24");
  CHECK_THROWS_AS(plan.host("nope"), std::out_of_range);
}

TEST_CASE("a two-hop chain links the inner jump host's namespace to the outer one's, and the scripts say so") {
  auto plan = plan_fleet(opts({{"b1"}, {"b2", "b1"}, {"deep", "b2"}, {"mid", "b1"}}), 0, 99);
  const auto& b2 = plan.host("b2");
  CHECK(b2.is_jump);
  CHECK(b2.netns == "pbx99-0-1");
  CHECK(b2.address == "198.18.1.6");
  CHECK(b2.jump_chain == std::vector<std::string>{"b1"});
  const auto& deep = plan.host("deep");
  CHECK(deep.netns == "pbx99-0-1");
  CHECK(deep.jump_chain == std::vector<std::string>{"b1", "b2"});
  CHECK(plan.host("mid").netns == "pbx99-0-0");
  CHECK(plan.namespaces == std::vector<std::string>{"pbx99-0-0", "pbx99-0-1"});
  REQUIRE(plan.links.size() == 2);
  CHECK(plan.links[1].parent_netns == "pbx99-0-0");
  CHECK(plan.links[1].child_netns == "pbx99-0-1");

  CHECK(root_setup_batch(plan) ==
        "netns add pbx99-0-0\n"
        "netns add pbx99-0-1\n"
        "link add pbx0v0p type veth peer name pbx0v0c\n"
        "link set pbx0v0c netns pbx99-0-0\n"
        "addr add 198.18.1.1/30 dev pbx0v0p\n"
        "link set pbx0v0p up\n"
        "link add pbx0v1p type veth peer name pbx0v1c\n"
        "link set pbx0v1c netns pbx99-0-1\n"
        "link set pbx0v1p netns pbx99-0-0\n"
        "route replace unreachable 198.18.1.0/24\n");
  auto inner = netns_setup_batches(plan);
  REQUIRE(inner.size() == 2);
  CHECK(inner[0].first == "pbx99-0-0");
  CHECK(inner[0].second ==
        "link set lo up\n"
        "addr add 198.18.1.2/30 dev pbx0v0c\n"
        "link set pbx0v0c up\n"
        "addr add 198.18.1.5/30 dev pbx0v1p\n"
        "link set pbx0v1p up\n");
  CHECK(inner[1].first == "pbx99-0-1");
  CHECK(inner[1].second ==
        "link set lo up\n"
        "addr add 198.18.1.6/30 dev pbx0v1c\n"
        "link set pbx0v1c up\n");
  CHECK(teardown_batch(plan) ==
        "link del pbx0v0p\n"
        "route del unreachable 198.18.1.0/24\n"
        "netns del pbx99-0-1\n"
        "netns del pbx99-0-0\n");
}

TEST_CASE("every name fits: interfaces within IFNAMSIZ, addresses within 198.18.0.0/15 for the last slot") {
  std::vector<HostSpec> hosts;
  for (int k = 0; k < kMaxJumpHosts; ++k) hosts.push_back({"j" + std::to_string(k)});
  for (int k = 0; k < kMaxJumpHosts; ++k) hosts.push_back({"h" + std::to_string(k), "j" + std::to_string(k)});
  auto plan = plan_fleet(opts(hosts), kSlots - 1, 4194304);
  REQUIRE(plan.links.size() == kMaxJumpHosts);
  for (const auto& l : plan.links) {
    CHECK(l.parent_if.size() <= 15);
    CHECK(l.child_if.size() <= 15);
    CHECK(l.child_address.rfind("198.18.250.", 0) == 0);
  }
  CHECK(plan.links.back().child_address == "198.18.250.254");
}

TEST_CASE("netns names carry pid and slot and parse back - other names are not ours") {
  long pid = 0;
  int slot = -1;
  CHECK(netns_name(4242, 17, 3) == "pbx4242-17-3");
  CHECK(parse_netns_name("pbx4242-17-3", &pid, &slot));
  CHECK(pid == 4242);
  CHECK(slot == 17);
  CHECK_FALSE(parse_netns_name("pbx4242-17", &pid, &slot));
  CHECK_FALSE(parse_netns_name("pbxtest-1", &pid, &slot));
  CHECK_FALSE(parse_netns_name("pbx1-2-x", &pid, &slot));
  CHECK_FALSE(parse_netns_name("docker-1-2-3", &pid, &slot));
  CHECK(veth_prefix(5) == "pbx5v");
}

TEST_CASE("bad fleet options get one line naming the entry and the fix") {
  CHECK(error_of(opts({})) == "FleetOptions.hosts is empty: list at least one host");
  CHECK(error_of(opts({{"a"}, {"a"}})) == "FleetOptions.hosts[1] (\"a\"): duplicate host name");
  CHECK(error_of(opts({{"web", "bastion"}, {"bastion"}})) ==
        "FleetOptions.hosts[0] (\"web\"): behind = \"bastion\" names no host listed before it (list jump hosts "
        "first)");
  CHECK(error_of(opts({{"a", "a"}})) == "FleetOptions.hosts[0] (\"a\"): a host cannot be behind itself");
  CHECK(error_of(opts({{"web 1"}})) ==
        "FleetOptions.hosts[0] (\"web 1\"): name must be 1-64 of [A-Za-z0-9_.-], not starting with '.' or '-'");
  CHECK(error_of(opts({{""}})).find("FleetOptions.hosts[0] (\"\"): name must be") == 0);
  CHECK(error_of(opts({{"-x"}})).find("name must be") != std::string::npos);
  CHECK(error_of(opts({{"a", "", {"all"}}})) ==
        "FleetOptions.hosts[0] (\"a\"): group \"all\" is made by the harness itself; choose another name");
  CHECK(error_of(opts({{"a", "", {"x y"}}})).find("group \"x y\" must be") != std::string::npos);

  FleetOptions bad_port = opts({{"a"}});
  bad_port.port = 70000;
  CHECK(error_of(bad_port) == "FleetOptions.port = 70000: use 1..65535 (or 0 for the default 22022)");

  std::vector<HostSpec> too_many;
  for (int k = 0; k <= kMaxJumpHosts; ++k) too_many.push_back({"j" + std::to_string(k)});
  for (int k = 0; k <= kMaxJumpHosts; ++k) too_many.push_back({"h" + std::to_string(k), "j" + std::to_string(k)});
  CHECK(error_of(opts(too_many)) == "FleetOptions.hosts: 65 jump hosts; at most 64 are supported");

  CHECK_THROWS_AS(plan_fleet(opts({{"a"}}), kSlots, 1), std::invalid_argument);
}

TEST_CASE("an explicit port is used for every host") {
  FleetOptions o = opts({{"b"}, {"w", "b"}});
  o.port = 22;
  auto plan = plan_fleet(o, 0, 1);
  CHECK(plan.host("b").port == 22);
  CHECK(plan.host("w").port == 22);
}

TEST_CASE("a shaped link gets an htb qdisc at its rate on both veth ends, each in its own namespace") {
  std::vector<HostSpec> hosts{{"b1"}, {"b2", "b1"}, {"deep", "b2"}, {"w", "b1"}, {"plain"}, {"x", "plain"}};
  hosts[0].link_mbit = 100;  // root <-> b1
  hosts[1].link_mbit = 10;   // b1 <-> b2
  auto plan = plan_fleet(opts(hosts), 0, 99);
  CHECK(plan.host("b1").uplink_if == "pbx0v0p");
  CHECK(plan.host("b1").link_mbit == 100);
  CHECK(plan.host("b2").uplink_if == "pbx0v1p");
  CHECK(plan.host("plain").uplink_if == "pbx0v2p");
  CHECK(plan.host("plain").link_mbit == 0);
  CHECK(plan.host("w").uplink_if.empty());
  REQUIRE(plan.links.size() == 3);
  CHECK(plan.links[0].mbit == 100);
  CHECK(plan.links[2].mbit == 0);

  auto tc = shaping_batches(plan);
  REQUIRE(tc.size() == 3);
  // The root namespace shapes what goes towards b1 (client -> bastion)...
  CHECK(tc[0].first == "");
  CHECK(tc[0].second ==
        "qdisc add dev pbx0v0p root handle 1: htb default 1\n"
        "class add dev pbx0v0p parent 1: classid 1:1 htb rate 100mbit ceil 100mbit burst 64k cburst 64k quantum "
        "65536\n");
  // ...b1's namespace what comes back from it, and what goes on to b2...
  CHECK(tc[1].first == "pbx99-0-0");
  CHECK(tc[1].second ==
        "qdisc add dev pbx0v0c root handle 1: htb default 1\n"
        "class add dev pbx0v0c parent 1: classid 1:1 htb rate 100mbit ceil 100mbit burst 64k cburst 64k quantum "
        "65536\n"
        "qdisc add dev pbx0v1p root handle 1: htb default 1\n"
        "class add dev pbx0v1p parent 1: classid 1:1 htb rate 10mbit ceil 10mbit burst 64k cburst 64k quantum "
        "65536\n");
  // ...and b2's namespace what comes back from b2. The unshaped link gets nothing.
  CHECK(tc[2].first == "pbx99-0-1");
  CHECK(tc[2].second ==
        "qdisc add dev pbx0v1c root handle 1: htb default 1\n"
        "class add dev pbx0v1c parent 1: classid 1:1 htb rate 10mbit ceil 10mbit burst 64k cburst 64k quantum "
        "65536\n");

  CHECK(shaping_batches(plan_fleet(opts({{"b"}, {"w", "b"}}), 0, 1)).empty());
}

TEST_CASE("link_mbit is refused on a host with no one behind it, and out of range") {
  std::vector<HostSpec> direct{{"a"}};
  direct[0].link_mbit = 100;
  CHECK(error_of(opts(direct)) ==
        "FleetOptions.hosts[0] (\"a\"): link_mbit shapes the link into a jump host's namespace, and no host is "
        "behind this one (a direct host has no link of its own)");
  std::vector<HostSpec> negative{{"b"}, {"w", "b"}};
  negative[0].link_mbit = -1;
  CHECK(error_of(opts(negative)) ==
        "FleetOptions.hosts[0] (\"b\"): link_mbit = -1: use 1..100000 Mbit/s (or 0 for an unshaped link)");
}
