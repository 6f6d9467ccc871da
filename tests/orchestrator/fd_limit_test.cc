#include "orchestrator/fd_limit.h"

#include <catch2/catch.hpp>

using plugbox::orchestrator::decide_fd_limit;
using plugbox::orchestrator::fds_needed;

TEST_CASE("a fleet within the soft limit leaves it as it is") {
  const auto d = decide_fd_limit(1024, 4096, 50);
  CHECK(d.soft == 1024);
  CHECK(d.error.empty());
}

TEST_CASE("500 hosts raise the soft limit toward the hard one, no further than twice the need") {
  REQUIRE(fds_needed(500) > 1024);
  auto d = decide_fd_limit(1024, 1u << 20, 500);
  CHECK(d.soft == 2 * fds_needed(500));
  CHECK(d.error.empty());
  d = decide_fd_limit(1024, fds_needed(500) + 10, 500);
  CHECK(d.soft == fds_needed(500) + 10);
  CHECK(d.error.empty());
}

TEST_CASE("a hard limit below the need is one line naming the limit and the fix") {
  const auto d = decide_fd_limit(1024, 1024, 500);
  CHECK(d.soft == 1024);
  CHECK_THAT(d.error, Catch::Contains("500 hosts need about " + std::to_string(fds_needed(500)) + " open files"));
  CHECK_THAT(d.error, Catch::Contains("at most 1024"));
  CHECK_THAT(d.error, Catch::Contains("ulimit -Hn"));
  CHECK_THAT(d.error, Catch::Contains("select fewer hosts"));
  CHECK(d.error.find('\n') == std::string::npos);
}
