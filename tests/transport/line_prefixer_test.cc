#include <catch2/catch.hpp>

#include "transport/line_prefixer.h"

using plugbox::transport::LinePrefixer;

TEST_CASE("lines of several hosts come out whole and prefixed") {
  std::string out, err;
  LinePrefixer p({"web01", "db", "bastion-eu"}, false,
                 [&](bool is_err, std::string_view t) { (is_err ? err : out).append(t); });
  CHECK(p.prefix(1) == "db         | ");
  p.feed(0, false, "hel");
  p.feed(1, false, "one\ntw");
  p.feed(0, false, "lo\nwor");
  p.feed(2, true, "oops\n");
  p.feed(1, false, "o\n\nthree");
  CHECK(out == "db         | one\nweb01      | hello\ndb         | two\ndb         | \n");
  CHECK(err == "bastion-eu | oops\n");
  p.finish(0);
  p.finish(1);
  p.finish(2);
  CHECK(out ==
        "db         | one\nweb01      | hello\ndb         | two\ndb         | \nweb01      | wor\ndb         | three\n");
}

TEST_CASE("prefixes are coloured for a terminal") {
  std::string out;
  LinePrefixer p({"a", "b"}, true, [&](bool, std::string_view t) { out.append(t); });
  p.feed(1, false, "x\n");
  CHECK(out == "\033[32mb\033[0m | x\n");
  CHECK(p.prefix(0) == "\033[36ma\033[0m | ");
}
