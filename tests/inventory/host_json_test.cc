#include "inventory/host_json.h"

#include <catch2/catch.hpp>

#include "tests/inventory/fleet_fixture.h"
#include "tests/inventory/support.h"

using namespace plugbox::inventory;

TEST_CASE("a host's JSON has the docs/DESIGN.md §4 fields, unset defaults as null", "[json]") {
  const Inventory inv = test::parse(test::kFleet);
  auto web03 = host_to_json(*inv.find("web03"));
  web03.erase("origin");
  CHECK(web03.dump() ==
        R"({"name":"web03","address":"web03.eu","port":22,"user":"shop","jump_chain":["edge","bastion-eu"],)"
        R"("groups":["prod","web"],"home":"/srv/shop","server":null,"server_install":true,"identity":null,)"
        R"("known_hosts":null,"host_key_check":"strict","transport":"ssh","vars":{}})");
  CHECK(host_to_json(*inv.find("db1"))["vars"] == nlohmann::ordered_json{{"region", "eu"}});
  CHECK(host_to_json(*inv.find("edge"))["home"].is_null());
  auto all = hosts_to_json({inv.find("edge"), inv.find("api2")});
  REQUIRE(all.is_array());
  CHECK(all.size() == 2);
  CHECK(all[1]["jump_chain"] == nlohmann::ordered_json::array({"bastion-us"}));
  CHECK(all[1]["port"] == 22);
  CHECK(host_to_json(*inv.find("bastion-us"))["port"] == 2222);
}

TEST_CASE("a host's JSON says where each set value came from", "[json]") {
  const Inventory inv = test::parse(R"([defaults]
user = "shop"
[hosts.edge]
[hosts.web]
address = "10.0.0.1"
port = 2201
jump = "edge"
)");
  CHECK(host_to_json(*inv.find("web"))["origin"] ==
        nlohmann::ordered_json{{"address", "inv.toml:5:11"}, {"jump", "inv.toml:7:8"}, {"port", "inv.toml:6:8"},
                               {"user", "inv.toml:2:8"}});
  CHECK(host_to_json(*inv.find("edge"))["origin"] == nlohmann::ordered_json{{"user", "inv.toml:2:8"}});
}
