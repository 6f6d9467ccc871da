#include "base/suggest.h"

#include <catch2/catch.hpp>

using namespace plugbox::base;

TEST_CASE("edit distance counts insertions, deletions, substitutions and swaps", "[suggest]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("abc", "") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("bastoin-eu", "bastion-eu") == 1);  // a swap
  CHECK(edit_distance("ab", "ba") == 1);
  CHECK(edit_distance("lcoal", "local") == 1);
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

TEST_CASE("did you mean: the limit grows with the word", "[suggest]") {
  CHECK(closest_match("abcd", {"abxy"}) == "");          // 4 characters: one edit
  CHECK(closest_match("abcde", {"abcxy"}) == "abcxy");   // 5 to 8: two
  CHECK(closest_match("abcdefgh", {"abcdexyz"}) == "");  // three is too many at 8
  CHECK(closest_match("abcdefghi", {"abcdefxyz"}) == "abcdefxyz");  // beyond 8: three
}

TEST_CASE("did you mean: a truncated name, when only one candidate starts with it", "[suggest]") {
  const std::vector<std::string> commands{"init",   "next-version", "seal",   "upgrade-to", "rollback-to", "remove",
                                          "gc",     "status",       "lock",   "verify",     "receive"};
  CHECK(closest_match("rollback", commands) == "rollback-to");  // three edits, but a prefix
  CHECK(closest_match("upgrde-to", commands) == "upgrade-to");   // a typo
  CHECK(closest_match("stat", commands) == "status");
  CHECK(closest_match("next", commands) == "next-version");
  CHECK(closest_match("re", commands) == "");  // remove or receive: no guess
  CHECK(closest_match("u", commands) == "");   // one character says too little
  // A near typo wins over a prefix: "gx" is one edit from "gc".
  CHECK(closest_match("gx", {"gxyzzy", "gc"}) == "gc");
}
