// For Catch2 tests: start a fleet, or skip the test with its printed reason
// (Catch2 v2 has no SKIP: a WARN that shows in the output, then return).
//
//   TEST_CASE("...") {
//     PLUGBOX_FLEET_OR_SKIP(fleet, options);   // declares `fleet`
//     ... fleet->host("web01") ...
//   }
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "tests/harness/sshd_fleet.h"

#define PLUGBOX_FLEET_OR_SKIP(var, options)                                       \
  std::string var##_skip_reason;                                                  \
  auto var = ::plugbox::testing::SshdFleet::start((options), &var##_skip_reason); \
  if (!var) {                                                                     \
    WARN("SKIPPED: " << var##_skip_reason);                                       \
    return;                                                                       \
  }
