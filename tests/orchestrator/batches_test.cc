#include <catch2/catch.hpp>

#include "orchestrator/batches.h"

using namespace plugbox::orchestrator;

TEST_CASE("batch sizes: canary, percentages rounding up, the last size repeating") {
  std::vector<BatchSize> spec;
  REQUIRE(parse_batches("1,10%,100%", &spec).empty());
  CHECK(batch_sizes(24, spec) == std::vector<std::size_t>{1, 3, 20});
  CHECK(batch_sizes(1, spec) == std::vector<std::size_t>{1});
  CHECK(batch_sizes(0, spec).empty());
  REQUIRE(parse_batches("1,25%", &spec).empty());
  CHECK(batch_sizes(10, spec) == std::vector<std::size_t>{1, 3, 3, 3});  // 25% of 10 rounds up to 3; the last repeats
  REQUIRE(parse_batches("2", &spec).empty());
  CHECK(batch_sizes(5, spec) == std::vector<std::size_t>{2, 2, 1});
  REQUIRE(parse_batches("1%", &spec).empty());
  CHECK(batch_sizes(3, spec) == std::vector<std::size_t>{1, 1, 1});  // never less than one host
}

TEST_CASE("bad batch sizes say why") {
  std::vector<BatchSize> spec;
  CHECK_THAT(parse_batches("1,,2", &spec), Catch::Contains("'' is not a batch size"));
  CHECK_THAT(parse_batches("0", &spec), Catch::Contains("at least 1 host"));
  CHECK_THAT(parse_batches("150%", &spec), Catch::Contains("at most 100%"));
  CHECK_THAT(parse_batches("ten", &spec), Catch::Contains("a number of hosts (5) or a percentage (10%)"));
  CHECK_THAT(parse_batches("-1", &spec), Catch::Contains("is not a batch size"));
}
