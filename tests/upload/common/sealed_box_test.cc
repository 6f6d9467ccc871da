#include "upload/common/sealed_box.h"

#include <catch2/catch.hpp>

#include "upload/common/relay_format.h"

namespace plugbox::upload {

TEST_CASE("a sealed content opens with its key and id, and with nothing else") {
  const SealKey key = new_seal_key();
  const std::string id = relay_id(sha256("content"), nullptr);
  const std::string plain = "zstd bytes of a content";
  const std::string sealed = seal(key, id, plain);
  CHECK(sealed.size() == plain.size() + kSealOverhead);
  CHECK(sealed.find(plain) == std::string::npos);  // ciphertext only
  std::string out;
  REQUIRE(open_sealed(key, id, sealed, &out));
  CHECK(out == plain);

  SECTION("any flipped byte fails the tag") {
    for (std::size_t i = 0; i < sealed.size(); ++i) {
      std::string bad = sealed;
      bad[i] ^= 0x01;
      CHECK_FALSE(open_sealed(key, id, bad, &out));
    }
  }
  SECTION("another content's id, another key, or a truncated seal fails") {
    CHECK_FALSE(open_sealed(key, relay_id(sha256("other"), nullptr), sealed, &out));
    const Digest base = sha256("base");
    CHECK_FALSE(open_sealed(key, relay_id(sha256("content"), &base), sealed, &out));
    CHECK_FALSE(open_sealed(new_seal_key(), id, sealed, &out));
    CHECK_FALSE(open_sealed(key, id, sealed.substr(0, sealed.size() - 1), &out));
    CHECK_FALSE(open_sealed(key, id, sealed.substr(0, 10), &out));
    CHECK(out.empty());
  }
  SECTION("two seals of the same content differ (fresh nonce)") { CHECK(seal(key, id, plain) != sealed); }
  SECTION("an empty content seals and opens") {
    REQUIRE(open_sealed(key, id, seal(key, id, ""), &out));
    CHECK(out.empty());
  }
}

TEST_CASE("relay endpoints are numeric ADDR:PORT, and anything else is one line") {
  RelayEndpoint ep;
  std::string why;
  REQUIRE(parse_relay_endpoint("127.0.3.2:7447", &ep, &why));
  CHECK(relay_endpoint_text(ep.addr) == "127.0.3.2:7447");
  REQUIRE(parse_relay_endpoint("[::1]:0", &ep, &why));
  CHECK(relay_endpoint_text(ep.addr) == "[::1]:0");
  CHECK_FALSE(parse_relay_endpoint("web01:7447", &ep, &why));
  CHECK(why == "'web01' is not a numeric IPv4 address");
  CHECK_FALSE(parse_relay_endpoint("10.0.0.1:70000", &ep, &why));
  CHECK(why == "port '70000' is not in 0..65535");
  CHECK_FALSE(parse_relay_endpoint("10.0.0.1", &ep, &why));
  CHECK(why == "'10.0.0.1' is not ADDR:PORT");
}

TEST_CASE("a relay id is the content's digest and its base's, zeros for a whole content") {
  const Digest c = sha256("c"), b = sha256("b");
  const std::string whole = relay_id(c, nullptr), patch = relay_id(c, &b);
  CHECK(whole.size() == kRelayIdBytes);
  CHECK(whole.substr(32) == std::string(32, '\0'));
  CHECK(patch.substr(0, 32) == whole.substr(0, 32));
  CHECK(patch.substr(32) == std::string(reinterpret_cast<const char*>(b.data()), 32));
}

}  // namespace plugbox::upload
