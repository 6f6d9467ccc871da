#include <catch2/catch.hpp>

#include "transport/shell_quote.h"

using plugbox::transport::shell_join;
using plugbox::transport::shell_quote;

TEST_CASE("shell_quote leaves plain words bare and quotes everything else") {
  CHECK(shell_quote("plugbox-server") == "plugbox-server");
  CHECK(shell_quote("2026-11-25T21:40:00") == "2026-11-25T21:40:00");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("$(rm -rf /)") == "'$(rm -rf /)'");
  CHECK(shell_quote("*") == "'*'");
}

TEST_CASE("shell_join quotes each word") {
  CHECK(shell_join({"plugbox-server", "--home", "/srv/my shop", "upgrade-to", "V;x"}) ==
        "plugbox-server --home '/srv/my shop' upgrade-to 'V;x'");
}
