#include "base/age_text.h"

#include <catch2/catch.hpp>

using plugbox::base::age_text;

TEST_CASE("age_text: two units at most, truncated", "[age]") {
  CHECK(age_text(0) == "0s");
  CHECK(age_text(45) == "45s");
  CHECK(age_text(60) == "1m");
  CHECK(age_text(12 * 60 + 59) == "12m");
  CHECK(age_text(2 * 3600 + 13 * 60 + 7) == "2h13m");
  CHECK(age_text(3600) == "1h0m");
  CHECK(age_text(3 * 86400 + 4 * 3600 + 59 * 60) == "3d4h");
  CHECK(age_text(-5) == "0s");
}
