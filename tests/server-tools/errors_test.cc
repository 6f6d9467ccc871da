#include "server-tools/errors.h"

#include <catch2/catch.hpp>
#include <cerrno>

using namespace plugbox::server;

TEST_CASE("errors carry the exit status, the step and the error code", "[errors]") {
  try {
    refuse("version X is live");
    FAIL("refuse returned");
  } catch (const ServerError& e) {
    CHECK(e.status() == ExitStatus::refused);
    CHECK(std::string(e.what()) == "version X is live");
    CHECK(e.step().empty());
  }
  try {
    bad_input("bad name");
    FAIL("bad_input returned");
  } catch (const ServerError& e) {
    CHECK(e.status() == ExitStatus::bad_input);
    CHECK(static_cast<int>(e.status()) == 2);
  }
  try {
    sys_fail("rename a -> b", ENOSPC);
    FAIL("sys_fail returned");
  } catch (const ServerError& e) {
    CHECK(e.status() == ExitStatus::refused);
    CHECK(e.step() == "rename a -> b");
    CHECK(e.code() == std::error_code(ENOSPC, std::system_category()));
    CHECK(std::string(e.what()) == "rename a -> b: " + std::error_code(ENOSPC, std::system_category()).message());
  }
}
