#include <catch2/catch.hpp>
#include <zstd.h>

#include "tests/upload/tree_util.h"

using namespace plugbox::upload;
using namespace plugbox::upload::testutil;

namespace {

LocalTree tree_of(const fs::path& dist) { return build_manifest(TreeSpec{dist.parent_path(), dist.filename().string(), {}}); }

std::string decompress(const std::string& frame, std::size_t raw) {
  std::string out(raw, '\0');
  std::size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

}  // namespace

TEST_CASE("a lazy store compresses a content only when it is first asked for, once") {
  TempDir t;
  write_file(t.path / "dist/a.txt", std::string(10000, 'a'));
  write_file(t.path / "dist/b.txt", "bbb");
  write_file(t.path / "dist/same-as-a.txt", std::string(10000, 'a'));
  auto tree = tree_of(t.path / "dist");
  auto store = BlobStore::lazy(tree);
  CHECK(store.size() == 2);  // distinct contents
  CHECK(store.compressed_count() == 0);
  CHECK(store.compressed_bytes() == 0);
  const Digest da = sha256(std::string(10000, 'a'));
  CHECK(store.has(da));
  CHECK_FALSE(store.has(sha256("not in the release")));
  CHECK(store.compressed_count() == 0);  // has() never compresses

  const auto* a = store.find(da);
  REQUIRE(a);
  CHECK(a->raw_size == 10000);
  CHECK(a->size < 100);
  CHECK(decompress(store.compressed(*a), 10000) == std::string(10000, 'a'));
  CHECK(store.compressed_count() == 1);
  CHECK(store.find(da) == a);  // the same blob, not compressed again
  CHECK(store.compressed_count() == 1);
  CHECK(store.compressed_bytes() == a->size);

  std::string err;
  CHECK(store.find(sha256("not in the release"), &err) == nullptr);
  CHECK_THAT(err, Catch::Contains("is not in this release"));
}

TEST_CASE("a lazy store refuses a file that changed after the manifest was built, naming it") {
  TempDir t;
  write_file(t.path / "dist/app.js", "console.log(1)");
  auto tree = tree_of(t.path / "dist");
  auto store = BlobStore::lazy(tree);
  write_file(t.path / "dist/app.js", "console.log(12345)");  // a rebuild raced the deploy
  std::string err;
  CHECK(store.find(sha256("console.log(1)"), &err) == nullptr);
  CHECK_THAT(err, Catch::Contains("app.js changed after it was hashed: run prepare again"));

  SECTION("the upload to a host then stops with that reason") {
    UploadClient client(tree.manifest, store);
    REQUIRE(client.on_line(R"({"need":[")" + to_hex(sha256("console.log(1)")) + R"("]})"));
    std::string chunk;
    CHECK_FALSE(client.next_chunk(&chunk));
    CHECK_THAT(client.error(), Catch::Contains("changed after it was hashed"));
  }
}

TEST_CASE("build() compresses everything up front and gives the same frames as lazy()") {
  TempDir t;
  for (int i = 0; i < 20; ++i) write_file(t.path / "dist" / ("f" + std::to_string(i)), std::string(1000 + i, char('a' + i)));
  auto tree = tree_of(t.path / "dist");
  auto eager = BlobStore::build(tree, 3, 2);
  auto lazy = BlobStore::lazy(tree, 3);
  CHECK(eager.compressed_count() == 20);
  for (const auto& e : tree.manifest.entries) {
    if (e.type != EntryType::file) continue;
    const auto* x = eager.find(e.digest);
    const auto* y = lazy.find(e.digest);
    REQUIRE(x);
    REQUIRE(y);
    CHECK(eager.compressed(*x) == lazy.compressed(*y));
  }
  CHECK(eager.compressed_bytes() == lazy.compressed_bytes());
}

TEST_CASE("read() gives any slice of a content's compressed form, and refuses one past its end") {
  TempDir t;
  write_file(t.path / "dist/x", std::string(5000, 'x') + "tail");
  write_file(t.path / "dist/y", "another content, kept after x in the store's file");
  auto tree = tree_of(t.path / "dist");
  auto store = BlobStore::lazy(tree);
  const auto* x = store.find(sha256(std::string(5000, 'x') + "tail"));
  const auto* y = store.find(sha256("another content, kept after x in the store's file"));
  REQUIRE(x);
  REQUIRE(y);
  CHECK(y->offset == x->offset + x->size);
  const std::string whole = store.compressed(*y);
  CHECK(decompress(whole, 100) == "another content, kept after x in the store's file");
  std::string slice = "kept: ", err;
  REQUIRE(store.read(*y, 3, 5, &slice, &err));
  CHECK(slice == "kept: " + whole.substr(3, 5));
  CHECK_FALSE(store.read(*y, 3, whole.size(), &slice, &err));
  CHECK(slice == "kept: " + whole.substr(3, 5));
  CHECK_THAT(err, Catch::Contains("past"));
}
