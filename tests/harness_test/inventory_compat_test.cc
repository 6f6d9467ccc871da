// The inventory.toml the harness writes is read by the project's own
// inventory loader as intended: every host, address, port, home, identity,
// known_hosts, strict checking, the resolved jump chains and the groups.
#include <catch2/catch.hpp>

#include "inventory/inventory.h"
#include "tests/harness/fleet_files.h"

using namespace plugbox::testing;
namespace inv = plugbox::inventory;

namespace {

RunningHost make_host(std::string name, std::string address, std::string behind, bool is_jump,
                      std::vector<std::string> groups = {}) {
  RunningHost h;
  h.name = std::move(name);
  h.address = std::move(address);
  h.port = 22022;
  h.behind = std::move(behind);
  h.is_jump = is_jump;
  h.groups = std::move(groups);
  h.home = "/tmp/pbx-fleet-1-abc/hosts/" + h.name + "/home";
  return h;
}

}  // namespace

TEST_CASE("the project's inventory loader reads the harness's inventory.toml as intended") {
  const std::vector<RunningHost> hosts{
      make_host("b1", "198.18.1.2", "", true), make_host("b2", "198.18.1.6", "b1", true),
      make_host("deep", "127.0.1.1", "b2", false, {"web"}), make_host("web01", "127.0.1.2", "b1", false, {"web"}),
      make_host("solo", "127.0.1.3", "", false)};
  const ClientSide client{"plugbox-test", "/tmp/pbx-fleet-1-abc/client_key", "/tmp/pbx-fleet-1-abc/known_hosts"};
  const std::string text = inventory_toml(hosts, client, {"server = \"/opt/plugbox/plugbox-server\""});

  std::vector<inv::Host> loaded;
  try {
    loaded = inv::Inventory::parse(text, "fleet.toml").hosts();
  } catch (const inv::InventoryError& e) {
    std::string all;
    for (const auto& d : e.diagnostics()) all += d.str() + "\n";
    FAIL("inventory refused the harness's file:\n" << all << text);
  }
  REQUIRE(loaded.size() == hosts.size());
  for (size_t i = 0; i < hosts.size(); ++i) {
    const auto& want = hosts[i];
    const auto& got = loaded[i];
    INFO(want.name);
    CHECK(got.name == want.name);
    CHECK(got.address == want.address);
    CHECK(got.port == want.port);
    CHECK(got.user == "plugbox-test");
    CHECK(got.identity == client.identity);
    CHECK(got.known_hosts == client.known_hosts);
    CHECK(got.home == want.home);
    CHECK(got.server == "/opt/plugbox/plugbox-server");
    CHECK(got.host_key_check == inv::HostKeyCheck::strict);
    CHECK(got.transport == inv::TransportKind::ssh);
  }
  CHECK(loaded[2].jump_chain == std::vector<std::string>{"b1", "b2"});
  CHECK(loaded[3].jump_chain == std::vector<std::string>{"b1"});
  CHECK(loaded[4].jump_chain.empty());

  auto inventory = inv::Inventory::parse(text, "fleet.toml");
  auto names = [&](const char* group) {
    std::vector<std::string> out;
    for (const auto* h : inventory.select(inv::Selection{{group}, {}})) out.push_back(h->name);
    return out;
  };
  CHECK(names("all") == std::vector<std::string>{"b1", "b2", "deep", "web01", "solo"});
  CHECK(names("leaves") == std::vector<std::string>{"deep", "web01", "solo"});
  CHECK(names("web") == std::vector<std::string>{"deep", "web01"});
}
