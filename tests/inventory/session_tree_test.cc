#include <catch2/catch.hpp>

#include "tests/inventory/fleet_fixture.h"
#include "tests/inventory/support.h"

using namespace plugbox::inventory;
using plugbox::inventory::test::kFleet;
using plugbox::inventory::test::render;

TEST_CASE("the session tree opens each bastion once and tunnels every host behind it", "[session_tree]") {
  const Inventory inv = test::parse(kFleet);
  CHECK(render(inv.session_tree(inv.select({{"prod"}, {}}))) ==
        "edge[bastion-eu[web01* web02* web03* web04*]] bastion-us[api1* api2*] db1*");
}

TEST_CASE("a bastion that is also selected is a target and a hop", "[session_tree]") {
  const Inventory inv = test::parse(kFleet);
  CHECK(render(inv.session_tree(inv.select({{}, {"web02", "bastion-eu", "edge"}}))) ==
        "edge*[bastion-eu*[web02*]]");
  CHECK(render(inv.session_tree(inv.select({{}, {"api2"}}))) == "bastion-us[api2*]");
  CHECK(inv.session_tree({}).empty());
}

TEST_CASE("bastions() lists the hosts others jump through", "[session_tree]") {
  const Inventory inv = test::parse(kFleet);
  std::vector<std::string> b;
  for (const Host* h : inv.bastions()) b.push_back(h->name);
  CHECK(b == std::vector<std::string>{"edge", "bastion-eu", "bastion-us"});
}
