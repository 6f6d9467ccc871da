#include <catch2/catch.hpp>

#include "tests/upload/tree_util.h"
#include "upload/client/content_cache.h"
#include "upload/common/stream_format.h"

using namespace plugbox::upload;
using namespace plugbox::upload::testutil;

namespace {
LocalTree tree_of(const fs::path& dist) { return build_manifest(TreeSpec{dist.parent_path(), dist.filename().string(), {}}); }
}  // namespace

TEST_CASE("the content cache keeps a release's patchable contents by digest and reads them back") {
  TempDir t;
  write_file(t.path / "dist/a.bin", std::string(4096, 'a'));
  write_file(t.path / "dist/copy-of-a.bin", std::string(4096, 'a'));
  write_file(t.path / "dist/tiny.txt", "too small to patch");
  auto tree = tree_of(t.path / "dist");
  ContentCache cache(t.path / "cache", 1 << 20);
  REQUIRE(cache.put(tree) == "");
  const Digest a = sha256(std::string(4096, 'a'));
  CHECK(cache.has(a));
  CHECK(cache.read(a) == std::string(4096, 'a'));
  CHECK_FALSE(cache.has(sha256("too small to patch")));
  CHECK(cache.bytes() == 4096);  // one copy of a's content, nothing else
  // The release may change under the cache: the cache keeps its own copy.
  write_file(t.path / "dist/a.bin", "rewritten by the next build");
  CHECK(cache.read(a) == std::string(4096, 'a'));
  CHECK_FALSE(cache.read(sha256("missing")).has_value());
}

TEST_CASE("the content cache stays within its bound, dropping the least recently used first") {
  TempDir t;
  ContentCache cache(t.path / "cache", 10000);
  auto release = [&](const std::string& name, char fill) {
    fs::remove_all(t.path / "dist");
    write_file(t.path / "dist" / name, std::string(4000, fill));
    REQUIRE(cache.put(tree_of(t.path / "dist")) == "");
  };
  release("one", '1');
  release("two", '2');
  CHECK(cache.read(sha256(std::string(4000, '1'))).has_value());  // used now: '2' is the oldest
  release("three", '3');
  CHECK(cache.bytes() <= 10000);
  CHECK(cache.has(sha256(std::string(4000, '1'))));
  CHECK_FALSE(cache.has(sha256(std::string(4000, '2'))));
  CHECK(cache.has(sha256(std::string(4000, '3'))));
}

TEST_CASE("a cache directory that cannot be made is one line, and nothing else fails") {
  TempDir t;
  write_file(t.path / "blocker", "a file where the cache directory should be");
  write_file(t.path / "dist/a.bin", std::string(2048, 'a'));
  ContentCache cache(t.path / "blocker" / "cache", 1 << 20);
  const std::string err = cache.put(tree_of(t.path / "dist"));
  CHECK_THAT(err, Catch::Contains("cannot create") && Catch::Contains("blocker"));
  CHECK_FALSE(cache.has(sha256(std::string(2048, 'a'))));
}
