#include "inventory/suggest.h"

#include <catch2/catch.hpp>

using namespace plugbox::inventory;

TEST_CASE("edit distance counts insertions, deletions and substitutions", "[suggest]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("bastoin-eu", "bastion-eu") == 1);  // a swap
  CHECK(edit_distance("ab", "ba") == 1);
}

TEST_CASE("did you mean: the nearest candidate, only when it is a plausible typo", "[suggest]") {
  const std::vector<std::string> hosts{"edge", "bastion-eu", "bastion-us", "web01"};
  CHECK(did_you_mean("bastoin-eu", hosts) == "; did you mean 'bastion-eu'?");
  CHECK(closest_match("bastion-e", hosts) == "bastion-eu");   // first of two equally near ones
  CHECK(closest_match("bastion-ue", hosts) == "bastion-eu");  // a swap; bastion-us is one edit too, later
  CHECK(closest_match("egde", hosts) == "edge");
  CHECK(closest_match("ebbe", hosts) == "");  // short: one edit allowed, this is two
  CHECK(closest_match("edg", hosts) == "edge");
  CHECK(closest_match("database", hosts) == "");
  CHECK(closest_match("edge", hosts) == "");  // the same name is no suggestion
  CHECK(did_you_mean("zzz", hosts) == "");
}
