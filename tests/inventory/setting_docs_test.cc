#include "inventory/setting_docs.h"

#include <catch2/catch.hpp>

#include "inventory/inventory.h"
#include "inventory/settings.h"

using namespace plugbox::inventory;
using plugbox::base::key_names;

// inventory.toml(5) is generated from setting_docs.h, the reader validates
// against settings.h: a setting added to one and not the other fails here.
TEST_CASE("every per-host setting has a documented row, and every row is a setting", "[setting_docs]") {
  CHECK(key_names(setting_docs()) == setting_names());
  CHECK(key_names(host_only_key_docs()) == host_only_keys());
}

TEST_CASE("every documented row has a type and a description", "[setting_docs]") {
  for (const auto* table : {&inventory_tables(), &group_keys(), &setting_docs(), &host_only_key_docs()})
    for (const auto& k : *table) {
      INFO(k.name);
      CHECK(std::string(k.type) != "");
      CHECK(std::string(k.description) != "");
    }
}

TEST_CASE("the documented top-level and group keys are the ones an inventory may use", "[setting_docs]") {
  // Every documented key, in the place it is documented for, loads...
  const Inventory ok = Inventory::parse(R"(
[defaults]
port = 2222
[hosts.a]
address = "a.example"
[hosts.b]
jump = "a"
[groups.g]
hosts = ["b"]
children = ["h"]
vars = { user = "svc" }
[groups.h]
hosts = ["a"]
)",
                                       "inv.toml");
  CHECK(ok.hosts().size() == 2);
  CHECK(key_names(inventory_tables()) == std::vector<std::string>{"defaults", "hosts", "groups"});
  CHECK(key_names(group_keys()) == std::vector<std::string>{"hosts", "children", "vars"});
  // ...and an undocumented one is refused, naming the documented ones.
  try {
    (void)Inventory::parse("[group.web]\nhosts = []\n", "inv.toml");
    FAIL("an unknown top-level key loaded");
  } catch (const InventoryError& e) {
    CHECK(e.diagnostics().at(0).str().find("did you mean 'groups'?") != std::string::npos);
  }
}
