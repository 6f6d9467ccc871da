#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "tests/upload/tree_util.h"

using namespace plugbox::upload;
using namespace plugbox::upload::testutil;

namespace {

// An app with every kind of entry the mirror must reproduce.
void make_app(const fs::path& dist) {
  write_file(dist / "bin/app", "#!/bin/sh\necho app\n", 0755);
  write_file(dist / "static/index.html", "<h1>shop</h1>");
  write_file(dist / "static/empty.txt", "");
  write_file(dist / "static/ünïcödé – name.css", "body{}");
  write_file(dist / "data/private.key", "secret", 0600);
  std::string big(3 << 20, '\0');
  std::mt19937 rng(42);
  for (auto& c : big) c = char(rng() % 7);  // compressible but not trivial
  write_file(dist / "data/big.bin", big);
  fs::create_directories(dist / "empty/nested");
  fs::create_symlink("bin/app", dist / "current");
  fs::create_symlink("../static/index.html", dist / "data/index-link");
  fs::create_symlink("/nonexistent/target", dist / "dangling");
  ::chmod((dist / "data").c_str(), 0750);
}

LocalTree tree_of(const fs::path& dist) { return build_manifest(TreeSpec{dist.parent_path(), dist.filename().string(), {}}); }

// An upload driven by hand, for tests that change the disk between steps:
// the manifest has been sent and the receiver's need list handed to the
// client; the test pulls the contents itself.
struct StepwiseUpload {
  StepwiseUpload(LocalTree t, const fs::path& version_dir)
      : tree(std::move(t)),
        blobs(BlobStore::build(tree)),
        client(tree.manifest, blobs),
        rx(version_dir.string(), {}, [this](const std::string& l) { lines.push_back(l); }) {
    REQUIRE(rx.feed(client.initial_bytes()));
    REQUIRE(client.on_line(lines.at(0)));
  }
  LocalTree tree;
  BlobStore blobs;
  UploadClient client;
  std::vector<std::string> lines;
  Receiver rx;
};

}  // namespace

TEST_CASE("an upload reproduces the tree exactly: modes, mtimes, symlinks, empty dirs, odd names") {
  TempDir t;
  make_app(t.path / "dist");
  fs::create_directories(t.path / "v1");
  auto tree = tree_of(t.path / "dist");
  auto blobs = BlobStore::build(tree);
  auto r = pump(tree, blobs, t.path / "v1", {});
  INFO(r.client_error << " / " << r.server_error);
  REQUIRE(r.ok);
  CHECK(snapshot(t.path / "v1") == snapshot(t.path / "dist"));
  CHECK(r.result->files_sent == 6);
  CHECK(r.result->files_linked == 0);
  CHECK(r.result->bytes_sent < (3u << 20));  // compressed on the wire
}

TEST_CASE("a second upload links unchanged files from the live version and mirrors deletions") {
  TempDir t;
  make_app(t.path / "dist");
  fs::create_directories(t.path / "v1");
  auto tree1 = tree_of(t.path / "dist");
  auto blobs1 = BlobStore::build(tree1);
  REQUIRE(pump(tree1, blobs1, t.path / "v1", {}).ok);

  // The next release: one file changed, one removed, one added.
  write_file(t.path / "dist/static/index.html", "<h1>shop v2</h1>");
  fs::remove(t.path / "dist/static/empty.txt");
  write_file(t.path / "dist/static/new.js", "console.log(2)");
  fs::create_directories(t.path / "v2");
  auto tree2 = tree_of(t.path / "dist");
  auto blobs2 = BlobStore::build(tree2);
  auto r = pump(tree2, blobs2, t.path / "v2", {LocalSource{(t.path / "v1").string(), tree1.manifest, {}}});
  INFO(r.server_error);
  REQUIRE(r.ok);
  auto v2 = snapshot(t.path / "v2");
  CHECK(v2 == snapshot(t.path / "dist"));
  CHECK(v2.count("static/empty.txt") == 0);
  CHECK(r.result->files_sent == 2);  // the changed and the new file only
  CHECK(r.result->files_linked == 4);
  auto v1 = snapshot(t.path / "v1");
  CHECK(v2["data/big.bin"].ino == v1["data/big.bin"].ino);  // shares the inode: nothing sent
  CHECK(v2["static/index.html"].ino != v1["static/index.html"].ino);
}

TEST_CASE("a live file edited in place, or with another mode, is not linked") {
  TempDir t;
  write_file(t.path / "dist/a", "same");
  write_file(t.path / "dist/b", "also same");
  fs::create_directories(t.path / "v1");
  auto tree1 = tree_of(t.path / "dist");
  auto blobs1 = BlobStore::build(tree1);
  REQUIRE(pump(tree1, blobs1, t.path / "v1", {}).ok);
  write_file(t.path / "v1/a", "edit");  // the manifest no longer vouches for it (mtime changed)
  ::chmod((t.path / "dist/b").c_str(), 0600);
  fs::create_directories(t.path / "v2");
  auto tree2 = tree_of(t.path / "dist");
  auto blobs2 = BlobStore::build(tree2);
  auto r = pump(tree2, blobs2, t.path / "v2", {LocalSource{(t.path / "v1").string(), tree1.manifest, {}}});
  REQUIRE(r.ok);
  CHECK(read_file(t.path / "v2/a") == "same");
  CHECK(r.result->files_sent == 1);    // a: sent again
  CHECK(r.result->files_copied == 1);  // b: same content, other mode: copied locally, v1's b untouched
  CHECK((fs::status(t.path / "v1/b").permissions() & fs::perms::group_read) != fs::perms::none);
  CHECK(snapshot(t.path / "v2") == snapshot(t.path / "dist"));
}

TEST_CASE("a flipped byte on the wire is refused and the version keeps no file with it") {
  TempDir t;
  std::string content(200000, 'a');
  for (size_t i = 0; i < content.size(); i += 7) content[i] = char('a' + i % 26);
  write_file(t.path / "dist/payload", content);
  fs::create_directories(t.path / "v1");
  auto tree = tree_of(t.path / "dist");
  auto blobs = BlobStore::build(tree);
  int chunk = 0;
  auto r = pump(tree, blobs, t.path / "v1", {}, [&](std::string& bytes) {
    if (chunk++ == 1) bytes[bytes.size() / 2] ^= 0x20;  // inside the file's compressed data
  });
  CHECK_FALSE(r.ok);
  CHECK_THAT(r.server_error, Catch::Contains("payload") || Catch::Contains("corrupt"));
  CHECK_THAT(r.client_error, Catch::Contains("upload refused by the host"));
  CHECK_FALSE(fs::exists(t.path / "v1/payload"));
}

TEST_CASE("an interrupted upload is detected; a retry then succeeds") {
  TempDir t;
  make_app(t.path / "dist");
  fs::create_directories(t.path / "v1");
  fs::create_symlink("../v0", t.path / "v1/previous");  // the chain's link survives a retry
  auto tree = tree_of(t.path / "dist");
  auto blobs = BlobStore::build(tree);
  auto cut = pump(tree, blobs, t.path / "v1", {}, nullptr, 1 << 20);
  CHECK_FALSE(cut.ok);
  CHECK_THAT(cut.server_error, Catch::Contains("truncated"));
  auto r = pump(tree, blobs, t.path / "v1", {});
  REQUIRE(r.ok);
  CHECK(snapshot(t.path / "v1") == snapshot(t.path / "dist"));
  CHECK(fs::read_symlink(t.path / "v1/previous") == "../v0");
}

TEST_CASE("the receiver never writes outside the version, even through a planted symlink") {
  TempDir t;
  write_file(t.path / "dist/d/x", "evil");
  fs::create_directories(t.path / "v1");
  fs::create_directories(t.path / "outside");
  StepwiseUpload up(tree_of(t.path / "dist"), t.path / "v1");
  // Someone swaps the directory for a symlink before the content arrives.
  fs::remove(t.path / "v1/d");
  fs::create_directory_symlink(t.path / "outside", t.path / "v1/d");
  std::string chunk;
  bool ok = true;
  while (ok && up.client.next_chunk(&chunk)) ok = up.rx.feed(chunk);
  CHECK_FALSE((ok && up.rx.finish()));
  const Receiver& rx = up.rx;
  // The receiver holds the directory it made open: the write fails there
  // (it was deleted), never following the symlink.
  CHECK_THAT(rx.error(), Catch::Contains("directory 'd'"));
  CHECK(fs::is_empty(t.path / "outside"));
}

TEST_CASE("a directory of the version replaced while the upload runs fails the upload") {
  TempDir t;
  write_file(t.path / "dist/d/sub/x", "one");
  write_file(t.path / "dist/d/y", "two");
  fs::create_directories(t.path / "v1");
  fs::create_directories(t.path / "outside");
  StepwiseUpload up(tree_of(t.path / "dist"), t.path / "v1");
  Receiver& rx = up.rx;
  std::string chunk, rest;
  while (up.client.next_chunk(&chunk)) rest += chunk;
  // Everything but the end frame (1 byte kind + 4 bytes length) arrives;
  // then the directory the receiver holds open is moved away and a fresh
  // one put in its place.
  REQUIRE(rest.size() > 5);
  REQUIRE(rx.feed(std::string_view(rest).substr(0, rest.size() - 5)));
  fs::rename(t.path / "v1/d", t.path / "outside/d");
  fs::create_directories(t.path / "v1/d/sub");
  CHECK_FALSE((rx.feed(std::string_view(rest).substr(rest.size() - 5)) && rx.finish()));
  CHECK_THAT(rx.error(), Catch::Contains("was replaced while the upload ran"));
}

TEST_CASE("a tree with more directories than the receiver keeps open is mirrored exactly") {
  TempDir t;
  // 300 directories (the receiver caches 256 open), files spread across
  // them, some sharing contents, and a second release linking most of them.
  for (int i = 0; i < 300; ++i)
    write_file(t.path / "dist" / ("d" + std::to_string(i % 30)) / ("e" + std::to_string(i)) / "f.txt",
               "content " + std::to_string(i % 40));
  fs::create_directories(t.path / "v1");
  auto tree = tree_of(t.path / "dist");
  auto blobs = BlobStore::build(tree);
  auto r = pump(tree, blobs, t.path / "v1", {});
  INFO(r.client_error << " / " << r.server_error);
  REQUIRE(r.ok);
  CHECK(snapshot(t.path / "v1") == snapshot(t.path / "dist"));
  CHECK(r.result->files_sent == 40);
  // Same content under another name: linked or copied here, never sent twice.
  CHECK(r.result->files_copied + r.result->files_linked == 260);

  write_file(t.path / "dist/d0/e0/f.txt", "changed");
  fs::create_directories(t.path / "v2");
  auto tree2 = tree_of(t.path / "dist");
  auto blobs2 = BlobStore::build(tree2);
  auto r2 = pump(tree2, blobs2, t.path / "v2", {LocalSource{(t.path / "v1").string(), tree.manifest, {}}});
  INFO(r2.client_error << " / " << r2.server_error);
  REQUIRE(r2.ok);
  CHECK(snapshot(t.path / "v2") == snapshot(t.path / "dist"));
  CHECK(r2.result->files_sent == 1);
  // Each unchanged file is linked from its own twin in v1 (same mode and
  // mtime), not copied from another file with the same content.
  CHECK(r2.result->files_linked == 299);
  CHECK(r2.result->files_copied == 0);
}

TEST_CASE("unsafe entries in a stream are refused before anything is written") {
  TempDir t;
  fs::create_directories(t.path / "v1");
  // "\xff/..": not UTF-8 (found by the fuzzer: the error reply must still be JSON).
  for (std::string bad : {"/abs", "../up", "previous", "a/../b", "\xff/.."}) {
    Manifest m;
    m.entries = {Entry{EntryType::file, bad, 0644, 1, 0, sha256("x"), {}}};
    std::vector<std::string> lines;
    Receiver rx((t.path / "v1").string(), {}, [&](const std::string& l) { lines.push_back(l); });
    CHECK_FALSE(rx.feed(encode_hello() + encode_manifest(m)));
    INFO(bad);
    CHECK_THAT(rx.error(), Catch::Contains("manifest refused"));
    REQUIRE(lines.size() == 1);
    CHECK_THAT(lines[0], Catch::Contains("\"error\""));
    CHECK_FALSE(nlohmann::json::parse(lines[0], nullptr, false).is_discarded());
    CHECK(fs::is_empty(t.path / "v1"));
  }
}

TEST_CASE("content that was not asked for, or sent twice, is refused") {
  TempDir t;
  write_file(t.path / "dist/f", "data");
  fs::create_directories(t.path / "v1");
  auto tree = tree_of(t.path / "dist");
  std::vector<std::string> lines;
  Receiver rx((t.path / "v1").string(), {}, [&](const std::string& l) { lines.push_back(l); });
  REQUIRE(rx.feed(encode_hello() + encode_manifest(tree.manifest)));
  CHECK_FALSE(rx.feed(encode_file_begin(sha256("other"), 5, 1)));
  CHECK_THAT(rx.error(), Catch::Contains("not asked for"));
}
