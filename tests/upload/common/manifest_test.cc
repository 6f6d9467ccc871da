#include <catch2/catch.hpp>

#include "upload/common/manifest.h"

using namespace plugbox::upload;

namespace {
Entry dir(std::string p) { return Entry{EntryType::dir, std::move(p), 0755, 0, 1, {}, {}}; }
Entry file(std::string p, std::string content = "x") {
  return Entry{EntryType::file, std::move(p), 0644, content.size(), 2, sha256(content), {}};
}
Entry slink(std::string p, std::string t) { return Entry{EntryType::symlink, std::move(p), 0777, 0, 3, {}, std::move(t)}; }
}  // namespace

TEST_CASE("a manifest encodes and decodes to the same entries") {
  Manifest m;
  m.entries = {dir("bin"), file("bin/app", "binary"), slink("current", "bin/app"), file("ünïcode file", "")};
  std::string err;
  Manifest back;
  REQUIRE(Manifest::decode(m.encode(), &back, &err));
  REQUIRE(back.entries.size() == 4);
  CHECK(back.entries[1].path == "bin/app");
  CHECK(back.entries[1].digest == sha256("binary"));
  CHECK(back.entries[2].target == "bin/app");
  CHECK(back.entries[3].path == "ünïcode file");
  CHECK(back.digest() == m.digest());
  CHECK(m.total_file_bytes() == 6);
}

TEST_CASE("unsafe or inconsistent manifests are refused with the path named") {
  struct Case {
    std::vector<Entry> entries;
    std::string message;
  } cases[] = {
      {{file("/etc/passwd")}, "path '/etc/passwd' is absolute"},
      {{file("../escape")}, "path '../escape' contains '..'"},
      {{dir("a"), file("a/../../x")}, "path 'a/../../x' contains '..'"},
      {{file("./x")}, "contains '.'"},
      {{file("")}, "empty path"},
      {{dir("a"), file("a//b")}, "empty component"},
      {{file("a/")}, "empty component"},
      {{file(std::string("a\0b", 3))}, "NUL byte"},
      {{file("previous")}, "top-level 'previous' and 'next' are the version chain's links"},
      {{dir("next")}, "reserved"},
      {{file("x"), file("x")}, "path 'x' appears twice"},
      {{file("d/x")}, "comes before its directory 'd'"},
      {{slink("d", "/etc"), file("d/passwd")}, "writes through symlinks are refused"},
      {{slink("l", "")}, "empty or NUL-containing target"},
  };
  for (const auto& c : cases) {
    Manifest m;
    m.entries = c.entries;
    INFO("expecting: " << c.message);
    CHECK_THAT(validate(m), Catch::Contains(c.message));
    Manifest back;
    std::string err;
    CHECK_FALSE(Manifest::decode(m.encode(), &back, &err));
    CHECK_THAT(err, Catch::Contains(c.message));
  }
  // A nested 'previous' is an ordinary name.
  Manifest ok;
  ok.entries = {dir("docs"), file("docs/previous")};
  CHECK(validate(ok).empty());
}

TEST_CASE("a truncated or device-carrying manifest is refused") {
  Manifest m;
  m.entries = {dir("a"), file("a/b", "hello")};
  std::string bytes = m.encode();
  Manifest back;
  std::string err;
  for (size_t cut : {size_t(0), size_t(3), bytes.size() / 2, bytes.size() - 1}) {
    CHECK_FALSE(Manifest::decode(bytes.substr(0, cut), &back, &err));
    CHECK_THAT(err, Catch::Contains("truncated"));
  }
  CHECK_FALSE(Manifest::decode(bytes + "x", &back, &err));
  CHECK_THAT(err, Catch::Contains("trailing"));
  std::string dev = bytes;
  dev[4] = 4;  // the first entry's type byte: 4 is no type we upload (a device, say)
  CHECK_FALSE(Manifest::decode(dev, &back, &err));
  CHECK_THAT(err, Catch::Contains("no devices"));
}
