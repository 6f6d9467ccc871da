#include <catch2/catch.hpp>

#include <zstd.h>

#include "upload/common/stream_format.h"

using namespace plugbox::upload;

namespace {
// The events the parser raises, as strings; the fan-out and patch events
// are left unset (the parser refuses their frames then).
StreamParser::Events recording(std::vector<std::string>* events) {
  StreamParser::Events ev;
  ev.on_manifest = [events](Manifest&& m, std::string*) {
    events->push_back("manifest:" + std::to_string(m.entries.size()));
    return true;
  };
  ev.on_file_begin = [events](const Digest&, std::uint64_t raw, std::uint64_t comp, std::string*) {
    events->push_back("begin:" + std::to_string(raw) + "/" + std::to_string(comp));
    return true;
  };
  ev.on_file_data = [events](std::string_view d, std::string*) {
    events->push_back("data:" + std::string(d));
    return true;
  };
  ev.on_file_end = [events](std::string*) {
    events->push_back("end-file");
    return true;
  };
  ev.on_end = [events](std::string*) {
    events->push_back("end");
    return true;
  };
  return ev;
}

struct Recorder {
  std::vector<std::string> events;
  StreamParser parser{recording(&events)};
};

std::string sample_stream() {
  Manifest m;
  m.entries = {Entry{EntryType::file, "f", 0644, 5, 0, sha256("hello"), {}}};
  std::string s = encode_hello() + encode_manifest(m) + encode_file_begin(sha256("hello"), 5, 6);
  encode_file_data("abcdef", &s);
  return s + encode_end();
}
}  // namespace

TEST_CASE("the parser yields the same events whatever the chunking") {
  std::string s = sample_stream();
  for (size_t chunk : {size_t(1), size_t(3), size_t(7), s.size()}) {
    Recorder r;
    for (size_t off = 0; off < s.size(); off += chunk) REQUIRE(r.parser.feed(std::string_view(s).substr(off, chunk)));
    REQUIRE(r.parser.finish());
    // One byte at a time splits the data frame's payload too; the parser waits for whole frames.
    CHECK(r.events == std::vector<std::string>{"manifest:1", "begin:5/6", "data:abcdef", "end-file", "end"});
  }
}

TEST_CASE("a truncated stream is detected at EOF wherever it is cut") {
  std::string s = sample_stream();
  for (size_t cut = 0; cut < s.size(); ++cut) {
    Recorder r;
    bool fed = r.parser.feed(std::string_view(s).substr(0, cut));
    INFO("cut at " << cut);
    CHECK(fed);
    CHECK_FALSE(r.parser.finish());
    CHECK_THAT(r.parser.error(), Catch::Contains("truncated"));
  }
}

TEST_CASE("malformed streams are refused with a reason") {
  std::string good = sample_stream();
  SECTION("bad magic") {
    Recorder r;
    CHECK_FALSE(r.parser.feed("GET / HTTP/1.1\r\n"));
    CHECK_THAT(r.parser.error(), Catch::Contains("bad hello"));
  }
  SECTION("another protocol version") {
    std::string s = good;
    s[kMagic.size()] = 3;
    Recorder r;
    CHECK_FALSE(r.parser.feed(s));
    CHECK_THAT(r.parser.error(), Catch::Contains("upload protocol 3 is not supported"));
  }
  SECTION("oversized frame") {
    std::string s = encode_hello() + "M" + std::string("\xff\xff\xff\x7f", 4);
    Recorder r;
    CHECK_FALSE(r.parser.feed(s));
    CHECK_THAT(r.parser.error(), Catch::Contains("exceeds the limit"));
  }
  SECTION("file data before the manifest") {
    std::string s = encode_hello();
    encode_file_data("x", &s);
    Recorder r;
    CHECK_FALSE(r.parser.feed(s));
    CHECK_THAT(r.parser.error(), Catch::Contains("expected the manifest"));
  }
  SECTION("a corrupted manifest digest") {
    std::string s = good;
    s[kMagic.size() + 4 + 5 + 6] ^= 1;  // a byte inside the manifest chunk
    Recorder r;
    CHECK_FALSE(r.parser.feed(s));
    CHECK_THAT(r.parser.error(), Catch::Contains("manifest"));
  }
  SECTION("bytes after the end frame") {
    Recorder r;
    CHECK_FALSE(r.parser.feed(good + "x"));
    CHECK_THAT(r.parser.error(), Catch::Contains("after its end frame"));
  }
  SECTION("a file cut short by the next file") {
    Manifest m;
    std::string s = encode_hello() + encode_manifest(m) + encode_file_begin(sha256("x"), 1, 10);
    encode_file_data("abc", &s);
    s += encode_end();
    Recorder r;
    CHECK_FALSE(r.parser.feed(s));
    CHECK_THAT(r.parser.error(), Catch::Contains("cut short"));
  }
  SECTION("once failed, always failed") {
    Recorder r;
    CHECK_FALSE(r.parser.feed("nope-nope-nope"));
    CHECK_FALSE(r.parser.feed(good));
    CHECK_FALSE(r.parser.finish());
  }
}

namespace {
// One zstd frame of `raw`, as the client's store keeps the manifest.
std::string zstd_frame(const std::string& raw) {
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 3));
  return out;
}
}  // namespace

TEST_CASE("protocol 2's manifest comes compressed, and a frame that does not open to it is refused") {
  Manifest m;
  m.entries = {Entry{EntryType::file, "f", 0644, 5, 0, sha256("hello"), {}}};
  const std::string raw = m.encode();
  const std::string frame = zstd_frame(raw);
  Recorder r;
  SECTION("as announced") {
    REQUIRE(r.parser.feed(encode_hello(2) + encode_manifest_compressed(frame, raw.size(), sha256(raw))));
    CHECK(r.parser.version() == 2);
    CHECK(r.events == std::vector<std::string>{"manifest:1"});
  }
  SECTION("longer than announced") {
    CHECK_FALSE(r.parser.feed(encode_hello(2) + encode_manifest_compressed(frame, raw.size() - 1, sha256(raw))));
    CHECK(r.parser.error() == "upload manifest: the compressed manifest is longer than announced: the stream is corrupt");
  }
  SECTION("shorter than announced") {
    CHECK_FALSE(r.parser.feed(encode_hello(2) + encode_manifest_compressed(frame, raw.size() + 1, sha256(raw))));
    CHECK(r.parser.error() == "upload manifest: the compressed manifest is shorter than announced: the stream is corrupt");
  }
  SECTION("not zstd") {
    CHECK_FALSE(r.parser.feed(encode_hello(2) + encode_manifest_compressed(raw, raw.size(), sha256(raw))));
    CHECK(r.parser.error().rfind("upload manifest: the compressed manifest does not decode: ", 0) == 0);
  }
  SECTION("cut short") {
    CHECK_FALSE(r.parser.feed(encode_hello(2) + encode_manifest_compressed(frame.substr(0, frame.size() - 3), raw.size(), sha256(raw))));
    CHECK(r.parser.error() == "upload manifest: the compressed manifest is truncated: the stream is corrupt");
  }
  SECTION("sent uncompressed, as protocol 1 would") {
    CHECK_FALSE(r.parser.feed(encode_hello(2) + encode_manifest(m)));
  }
  SECTION("a version this server does not speak") {
    CHECK_FALSE(r.parser.feed(encode_hello(3)));
    CHECK(r.parser.error() ==
          "upload protocol 3 is not supported (this server speaks 1 to 2): install matching plugbox and plugbox-server versions");
  }
}
