#include "inventory/range.h"

#include <catch2/catch.hpp>

using namespace plugbox::inventory;

namespace {
std::vector<std::string> names(const Expansion& e) {
  std::vector<std::string> out;
  for (const auto& i : e.items) out.push_back(i.name);
  return out;
}
}  // namespace

TEST_CASE("a zero-padded range keeps its padding, and {} gets the number as written", "[range]") {
  Expansion e = expand_name("web[01:03]");
  REQUIRE_FALSE(e.problem);
  CHECK(e.is_range);
  CHECK(names(e) == std::vector<std::string>{"web01", "web02", "web03"});
  CHECK(e.items[1].number == "02");
  CHECK(substitute_number("web{}.eu.internal", e.items[1].number) == "web02.eu.internal");
  CHECK(substitute_number("{}-{}", "7") == "7-7");
  CHECK(substitute_number("no braces", "7") == "no braces");
}

TEST_CASE("an unpadded range has no padding, and ranges may sit mid-name", "[range]") {
  CHECK(names(expand_name("h[8:11]")) == std::vector<std::string>{"h8", "h9", "h10", "h11"});
  CHECK(names(expand_name("rack[1:2].dc")) == std::vector<std::string>{"rack1.dc", "rack2.dc"});
  CHECK(names(expand_name("[1:2]x")) == std::vector<std::string>{"1x", "2x"});
  CHECK(names(expand_name("h[0:1]")) == std::vector<std::string>{"h0", "h1"});
  CHECK(names(expand_name("h[5:5]")) == std::vector<std::string>{"h5"});
  CHECK(expand_name("web[001:100]").items.back().name == "web100");
}

TEST_CASE("a plain name is one item with no number", "[range]") {
  Expansion e = expand_name("bastion-eu");
  REQUIRE_FALSE(e.problem);
  CHECK_FALSE(e.is_range);
  REQUIRE(e.items.size() == 1);
  CHECK(e.items[0].name == "bastion-eu");
  CHECK(e.items[0].number.empty());
}

TEST_CASE("bad ranges say what is wrong, where, and how to write it", "[range]") {
  struct Case {
    const char* text;
    const char* message;
    size_t offset;
  };
  const Case cases[] = {
      {"web[24:01]", "reversed range 'web[24:01]': the start is after the end; write web[01:24]", 3},
      {"web[]", "empty range in host name 'web[]'; write web[START:END], e.g. web[01:24]", 3},
      {"web[:]", "empty range in host name 'web[:]'; write web[START:END], e.g. web[01:24]", 3},
      {"web[1:]", "range 'web[1:]' has no end; write web[START:END], e.g. web[01:24]", 6},
      {"web[:4]", "range 'web[:4]' has no start; write web[START:END], e.g. web[01:24]", 4},
      {"web[4]", "range 'web[4]' has no ':'; write web[START:END], e.g. web[01:24]", 3},
      {"web[1:9:2]", "range 'web[1:9:2]' has more than one ':' (steps are not supported); write web[START:END], e.g. "
                     "web[01:24]",
       7},
      {"web[a:c]", "range bound 'a' in 'web[a:c]' is not a number; write web[START:END], e.g. web[01:24]", 4},
      {"web[01:100]", "zero-padded range 'web[01:100]' needs bounds of the same width; write web[001:100]", 3},
      {"web[01:24", "unclosed '[' in host name 'web[01:24'; write web[START:END], e.g. web[01:24]", 3},
      {"web01]", "']' without '[' in host name 'web01]'", 5},
      {"r[1:2]n[1:2]", "host name 'r[1:2]n[1:2]' has more than one range; only one is allowed", 7},
      {"h[1:200000]", "range 'h[1:200000]' has 200000 hosts; at most 100000 are allowed in one range", 1},
      {"h[1:1234567890]", "range bound '1234567890' in 'h[1:1234567890]' is too large", 4},
      {"we b[1:2]", "host name 'we b[1:2]' contains ' '; names use letters, digits, '.', '_' and '-'", 2},
      {"web[1:2]/x", "host name 'web[1:2]/x' contains '/'; names use letters, digits, '.', '_' and '-'", 8},
      {"-web[1:2]", "host name '-web[1:2]' must start with a letter or a digit", 0},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    Expansion e = expand_name(c.text);
    REQUIRE(e.problem);
    CHECK(e.problem->message == c.message);
    CHECK(e.problem->offset == c.offset);
    CHECK(e.items.empty());
  }
}

TEST_CASE("names: letters, digits, '.', '_', '-', starting with a letter or digit", "[range]") {
  CHECK_FALSE(name_problem("web-01.eu_x", "host"));
  CHECK_FALSE(name_problem("1web", "group"));
  REQUIRE(name_problem("", "group"));
  CHECK(name_problem("", "group")->message == "empty group name");
  REQUIRE(name_problem("a\tb", "host"));
  CHECK(name_problem("a\tb", "host")->message ==
        "host name 'a\tb' contains '\\x09'; names use letters, digits, '.', '_' and '-'");
  CHECK(name_problem("a\tb", "host")->offset == 1);
  CHECK(name_problem(".x", "group")->message == "group name '.x' must start with a letter or a digit");
}
