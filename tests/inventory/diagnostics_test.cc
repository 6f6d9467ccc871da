#include "inventory/diagnostics.h"

#include <catch2/catch.hpp>

using namespace plugbox::inventory;

TEST_CASE("a diagnostic prints as FILE:LINE:COL: message", "[diagnostics]") {
  CHECK(Diagnostic{{"inv.toml", 13, 12}, "boom", false}.str() == "inv.toml:13:12: boom");
  CHECK(Diagnostic{{"inv.toml", 13, 12}, "careful", true}.str() == "inv.toml:13:12: warning: careful");
  CHECK(Diagnostic{{"inv.toml", 0, 0}, "unknown group 'x'", false}.str() == "inv.toml: unknown group 'x'");
  CHECK(Diagnostic{{"", 0, 0}, "no inventory", false}.str() == "no inventory");
}

TEST_CASE("diagnostics come out in file order, each (place, message) once", "[diagnostics]") {
  Diagnostics d("inv.toml");
  d.error({9, 1}, "late");
  d.warning({2, 5}, "a warning");
  d.error({2, 3}, "early");
  d.error({9, 1}, "late");  // a range repeats its problem for every host
  CHECK(d.has_errors());
  auto all = d.sorted();
  REQUIRE(all.size() == 3);
  CHECK(all[0].str() == "inv.toml:2:3: early");
  CHECK(all[1].str() == "inv.toml:2:5: warning: a warning");
  CHECK(all[2].str() == "inv.toml:9:1: late");
  REQUIRE(d.warnings().size() == 1);
  CHECK(d.where({4, 7}) == "inv.toml:4:7");

  InventoryError e(all);
  CHECK(std::string(e.what()) == "inv.toml:2:3: early");
  CHECK(e.diagnostics().size() == 3);
}

TEST_CASE("warnings alone are not errors", "[diagnostics]") {
  Diagnostics d("inv.toml");
  d.warning({1, 1}, "w");
  CHECK_FALSE(d.has_errors());
}
