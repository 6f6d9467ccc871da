#include <catch2/catch.hpp>

#include "upload/common/sha256.h"

using namespace plugbox::upload;

TEST_CASE("sha256 matches the FIPS 180-2 vectors, streaming or not") {
  CHECK(to_hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.update("a");
  h.update("bc");
  CHECK(to_hex(h.finish()) == to_hex(sha256("abc")));
  CHECK(to_hex(h.finish()) == to_hex(sha256("")));  // finish() resets
}

TEST_CASE("hex round-trips and refuses malformed digests") {
  Digest d;
  auto hex = to_hex(sha256("x"));
  REQUIRE(from_hex(hex, &d));
  CHECK(to_hex(d) == hex);
  CHECK_FALSE(from_hex(hex.substr(1), &d));
  CHECK_FALSE(from_hex(std::string(64, 'G'), &d));
  CHECK_FALSE(from_hex(std::string(64, 'A'), &d));  // lowercase only
}
