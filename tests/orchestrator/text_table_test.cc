#include "orchestrator/text_table.h"

#include <catch2/catch.hpp>

using plugbox::orchestrator::render_table;

TEST_CASE("a table pads each column but the last to its widest cell plus two spaces") {
  CHECK(render_table({{"HOST", "LIVE", "STATE"}, {"web01", "-", "live"}, {"a", "2026-01-01T00:00:00", "failed: no"}}) ==
        "HOST   LIVE                 STATE\n"
        "web01  -                    live\n"
        "a      2026-01-01T00:00:00  failed: no\n");
}

TEST_CASE("the last column is never padded, however wide, and an empty table is nothing") {
  CHECK(render_table({{"HOST", "ERROR"}, {"h", std::string(50, 'x')}, {"h2", ""}}) ==
        "HOST  ERROR\n"
        "h     " + std::string(50, 'x') + "\n"
        "h2    \n");
  CHECK(render_table({{"ONLY"}, {"one"}}) == "ONLY\none\n");
  CHECK(render_table({}).empty());
}
