#include <catch2/catch.hpp>

#include "tests/inventory/fleet_fixture.h"
#include "tests/inventory/support.h"

using namespace plugbox::inventory;
using plugbox::inventory::test::kFleet;

namespace {
std::vector<std::string> names(const std::vector<const Host*>& hosts) {
  std::vector<std::string> out;
  for (const Host* h : hosts) out.push_back(h->name);
  return out;
}
std::vector<std::string> select_errors(const Inventory& inv, const Selection& sel) {
  std::vector<std::string> out;
  try {
    inv.select(sel);
  } catch (const InventoryError& e) {
    for (const auto& d : e.diagnostics()) out.push_back(d.str());
  }
  return out;
}
}  // namespace

TEST_CASE("selecting a group includes the hosts of child groups, in inventory order", "[selection]") {
  const Inventory inv = test::parse(kFleet);
  CHECK(names(inv.select({{"prod"}, {}})) ==
        std::vector<std::string>{"web01", "web02", "web03", "web04", "api1", "api2", "db1"});
  CHECK(names(inv.select({{"api"}, {}})) == std::vector<std::string>{"api1", "api2"});
}

TEST_CASE("selecting hosts takes names, ranges and globs, and the union has no duplicates", "[selection]") {
  const Inventory inv = test::parse(kFleet);
  CHECK(names(inv.select({{}, {"db1", "edge"}})) == std::vector<std::string>{"edge", "db1"});
  CHECK(names(inv.select({{}, {"web0*"}})) == std::vector<std::string>{"web01", "web02", "web03", "web04"});
  CHECK(names(inv.select({{}, {"web0[13]"}})) == std::vector<std::string>{"web01", "web03"});  // glob class
  CHECK(names(inv.select({{}, {"web[02:03]"}})) == std::vector<std::string>{"web02", "web03"});  // range
  CHECK(names(inv.select({{}, {"bastion-??"}})) == std::vector<std::string>{"bastion-eu", "bastion-us"});
  CHECK(names(inv.select({{"api"}, {"api*", "web01"}})) == std::vector<std::string>{"web01", "api1", "api2"});
}

TEST_CASE("a selection that selects nothing, or names something unknown, is an error", "[selection]") {
  const Inventory inv = test::parse(kFleet);
  CHECK(select_errors(inv, {}) ==
        std::vector<std::string>{"inv.toml: no hosts selected: choose them with --group GROUP or --host NAME[,NAME...]"});
  CHECK(select_errors(inv, {{"empty"}, {}}) == std::vector<std::string>{"inv.toml: group 'empty' has no hosts"});
  // Every problem at once.
  CHECK(select_errors(inv, {{"wbe", "nope"}, {"wbe01", "zz*", "web[03:06]", "web[1:]"}}) ==
        std::vector<std::string>{
            "inv.toml: unknown group 'wbe'; did you mean 'web'?",
            "inv.toml: unknown group 'nope'",
            "inv.toml: unknown host 'wbe01'; did you mean 'web01'?",
            "inv.toml: --host 'zz*' matches no host",
            "inv.toml: --host 'web[03:06]': web05 (and 1 more) are not in the inventory",
            "inv.toml: --host 'web[1:]': range 'web[1:]' has no end; write web[START:END], e.g. web[01:24]",
        });
}

TEST_CASE("split_host_list splits --host a,b on commas", "[selection]") {
  CHECK(split_host_list("a,b, web0*,,") == std::vector<std::string>{"a", "b", "web0*"});
  CHECK(split_host_list("").empty());
}
