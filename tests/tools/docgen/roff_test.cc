#include "tools/docgen/roff.h"

#include <catch2/catch.hpp>

using namespace plugbox::docgen;

TEST_CASE("help text cannot turn into roff requests or escapes", "[roff]") {
  CHECK(roff_escape("--dry-run") == "\\-\\-dry\\-run");
  CHECK(roff_escape("C:\\dir") == "C:\\edir");
  // A line starting with '.' or '\'' would be read as a request.
  CHECK(roff_escape("./inventory.toml") == "\\&./inventory.toml");
  CHECK(roff_escape("one\n.two\n'three") == "one\n\\&.two\n\\&'three");
  CHECK(roff_escape("a.b 'c'") == "a.b 'c'");
}

TEST_CASE("a page starts with its title line and keeps macro arguments quoted", "[roff]") {
  Roff r("PLUGBOX", 1, "plugbox 0.1.0", "User Commands");
  r.section("EXIT STATUS");
  r.tagged(bold("--help"), "say \"hi\"");
  const std::string& s = r.str();
  CHECK(s.find(".TH \"PLUGBOX\" 1 \"\" \"plugbox 0.1.0\" \"User Commands\"\n") != std::string::npos);
  CHECK(s.find(".SH \"EXIT STATUS\"\n") != std::string::npos);
  CHECK(s.find(".TP\n\\fB\\-\\-help\\fR\nsay \"hi\"\n") != std::string::npos);
}
