#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>

#include <array>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/upload/tree_util.h"
#include "upload/server/verify_tree.h"

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

// Gives every file under root a new mtime, as `cp -r` or `npm ci` would.
void rewrite_mtimes(const fs::path& root, long long sec) {
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file() || it->is_symlink()) continue;
    timespec ts[2] = {{sec, 123}, {sec, 123}};
    REQUIRE(::utimensat(AT_FDCWD, it->path().c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0);
  }
}

// The version holds exactly what `stored` (what the host keeps as its
// manifest) says, mtimes included.
void require_matches_manifest(const fs::path& version, const Manifest& stored) {
  auto check = verify_tree(version.string(), stored);
  INFO((check.problems.empty() ? "" : check.problems.front()));
  REQUIRE(check.problems.empty());
  for (const auto& e : stored.entries) {
    if (e.type != EntryType::file) continue;
    struct stat st;
    REQUIRE(::lstat((version / e.path).c_str(), &st) == 0);
    INFO(e.path);
    CHECK((long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec == e.mtime_ns);
  }
}

// The same tree without mtimes: contents, modes, types, targets.
std::map<std::string, Node> without_mtimes(std::map<std::string, Node> snap) {
  for (auto& [path, n] : snap) n.mtime = 0;
  return snap;
}

// An upload driven by hand, for tests that change the disk between steps:
// the manifest has been sent and the receiver's need list handed to the
// client; the test pulls the contents itself.
struct StepwiseUpload {
  StepwiseUpload(LocalTree t, const fs::path& version_dir)
      : tree(std::move(t)),
        blobs(BlobStore::build(tree)),
        client(tree.manifest, blobs),
        rx(version_dir.string(), {}, [this](const std::string& l) { lines.push_back(l); }, LinkRule::content) {
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

TEST_CASE("an interrupted upload is detected, a retry then succeeds") {
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
  // Exact mtimes: the point here is the directory cache, checked against an
  // exact mirror (under LinkRule::content same-content files would share one
  // inode and its mtime).
  auto r = pump(tree, blobs, t.path / "v1", {}, nullptr, SIZE_MAX, LinkRule::exact_mtime);
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
  auto r2 = pump(tree2, blobs2, t.path / "v2", {LocalSource{(t.path / "v1").string(), tree.manifest, {}}}, nullptr,
                 SIZE_MAX, LinkRule::exact_mtime);
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
    Receiver rx((t.path / "v1").string(), {}, [&](const std::string& l) { lines.push_back(l); }, LinkRule::content);
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
  Receiver rx((t.path / "v1").string(), {}, [&](const std::string& l) { lines.push_back(l); }, LinkRule::content);
  REQUIRE(rx.feed(encode_hello() + encode_manifest(tree.manifest)));
  CHECK_FALSE(rx.feed(encode_file_begin(sha256("other"), 5, 1)));
  CHECK_THAT(rx.error(), Catch::Contains("not asked for"));
}

TEST_CASE("a build that rewrites every mtime still gets its unchanged files hard-linked, first mtimes kept") {
  TempDir t;
  make_app(t.path / "dist");
  rewrite_mtimes(t.path / "dist", 1'700'000'000);
  fs::create_directories(t.path / "v1");
  auto tree1 = tree_of(t.path / "dist");
  auto r1 = pump(tree1, BlobStore::build(tree1), t.path / "v1", {});
  REQUIRE(r1.ok);

  // The next build: every file rewritten (new mtimes), one content changed.
  write_file(t.path / "dist/static/index.html", "<h1>shop v2</h1>");
  rewrite_mtimes(t.path / "dist", 1'700'000'500);
  fs::create_directories(t.path / "v2");
  auto tree2 = tree_of(t.path / "dist");
  auto r2 = pump(tree2, BlobStore::build(tree2), t.path / "v2", {LocalSource{(t.path / "v1").string(), r1.stored, {}}});
  INFO(r2.server_error);
  REQUIRE(r2.ok);
  CHECK(r2.result->files_sent == 1);
  CHECK(r2.result->files_linked == 5);
  CHECK(r2.result->files_copied == 0);
  auto v1 = snapshot(t.path / "v1"), v2 = snapshot(t.path / "v2");
  for (const auto& [path, n] : v2) {
    if (n.type != 'f') continue;
    INFO(path);
    if (path == "static/index.html") {
      CHECK(n.ino != v1[path].ino);
      CHECK(n.mtime == 1'700'000'500'000'000'123LL);  // new content: the build's mtime
    } else {
      CHECK(n.ino == v1[path].ino);                  // one inode: one copy on disk
      CHECK(n.mtime == 1'700'000'000'000'000'123LL);  // the mtime of its first arrival
    }
  }
  // Content, modes and links are the build's; mtimes are what the stored
  // manifest says (so a later upload can link from v2 in turn).
  CHECK(without_mtimes(v2) == without_mtimes(snapshot(t.path / "dist")));
  require_matches_manifest(t.path / "v2", r2.stored);
  CHECK(r2.stored.entries.size() == tree2.manifest.entries.size());
}

TEST_CASE("N versions of a tree regenerated with new mtimes take one copy on disk") {
  TempDir t;
  for (int i = 0; i < 20; ++i) write_file(t.path / "src" / ("f" + std::to_string(i)), std::string(4096 + i, char('a' + i)));
  std::vector<LocalSource> sources;
  std::set<ino_t> inodes;
  std::uintmax_t bytes = 0;
  for (int n = 0; n < 5; ++n) {
    // `rm -rf dist && cp -r src/. dist/`: new inodes and mtimes every time.
    fs::remove_all(t.path / "dist");
    fs::copy(t.path / "src", t.path / "dist", fs::copy_options::recursive);
    rewrite_mtimes(t.path / "dist", 1'700'000'000 + n);
    const fs::path v = t.path / ("v" + std::to_string(n));
    fs::create_directories(v);
    auto tree = tree_of(t.path / "dist");
    auto r = pump(tree, BlobStore::build(tree), v, sources);
    INFO("version " << n << ": " << r.server_error);
    REQUIRE(r.ok);
    CHECK(r.result->files_sent == (n == 0 ? 20u : 0u));
    CHECK(r.result->files_linked == (n == 0 ? 0u : 20u));
    require_matches_manifest(v, r.stored);
    sources.insert(sources.begin(), LocalSource{v.string(), r.stored, {}});  // newest first, as receive orders them
    for (const auto& [path, node] : snapshot(v))
      if (node.type == 'f' && inodes.insert(node.ino).second) bytes += fs::file_size(v / path);
  }
  std::uintmax_t one_copy = 0;
  for (const auto& e : fs::directory_iterator(t.path / "src")) one_copy += e.file_size();
  CHECK(inodes.size() == 20);
  CHECK(bytes == one_copy);
}

TEST_CASE("with exact mtimes, same content under a new mtime is copied and keeps the build's mtime") {
  TempDir t;
  write_file(t.path / "dist/a", "same a");
  write_file(t.path / "dist/b", "same b");
  rewrite_mtimes(t.path / "dist", 1'700'000'000);
  fs::create_directories(t.path / "v1");
  auto tree1 = tree_of(t.path / "dist");
  auto r1 = pump(tree1, BlobStore::build(tree1), t.path / "v1", {}, nullptr, SIZE_MAX, LinkRule::exact_mtime);
  REQUIRE(r1.ok);
  ::utimensat(AT_FDCWD, (t.path / "dist/a").c_str(), std::array<timespec, 2>{{{1'700'000'900, 0}, {1'700'000'900, 0}}}.data(), 0);
  fs::create_directories(t.path / "v2");
  auto tree2 = tree_of(t.path / "dist");
  auto r2 = pump(tree2, BlobStore::build(tree2), t.path / "v2", {LocalSource{(t.path / "v1").string(), r1.stored, {}}},
                 nullptr, SIZE_MAX, LinkRule::exact_mtime);
  REQUIRE(r2.ok);
  CHECK(r2.result->files_sent == 0);
  CHECK(r2.result->files_copied == 1);  // a: new mtime
  CHECK(r2.result->files_linked == 1);  // b: same mtime
  auto v1 = snapshot(t.path / "v1"), v2 = snapshot(t.path / "v2");
  CHECK(v2["a"].ino != v1["a"].ino);
  CHECK(v2["b"].ino == v1["b"].ino);
  CHECK(v2 == snapshot(t.path / "dist"));  // mtimes exactly the build's
  CHECK(r2.stored.digest() == tree2.manifest.digest());
}

TEST_CASE("files of one upload with the same content and mode share one inode and the first one's mtime") {
  TempDir t;
  write_file(t.path / "dist/x/LICENSE", "MIT");
  write_file(t.path / "dist/y/LICENSE", "MIT");
  write_file(t.path / "dist/z/LICENSE", "MIT", 0600);  // another mode: its own inode
  ::utimensat(AT_FDCWD, (t.path / "dist/y/LICENSE").c_str(), std::array<timespec, 2>{{{1'600'000'000, 0}, {1'600'000'000, 0}}}.data(), 0);
  fs::create_directories(t.path / "v1");
  auto tree = tree_of(t.path / "dist");
  auto r = pump(tree, BlobStore::build(tree), t.path / "v1", {});
  REQUIRE(r.ok);
  CHECK(r.result->files_sent == 1);
  CHECK(r.result->files_linked == 1);
  CHECK(r.result->files_copied == 1);
  auto v = snapshot(t.path / "v1");
  CHECK(v["x/LICENSE"].ino == v["y/LICENSE"].ino);
  CHECK(v["z/LICENSE"].ino != v["x/LICENSE"].ino);
  CHECK(v["z/LICENSE"].mode == 0600);
  require_matches_manifest(t.path / "v1", r.stored);
}

TEST_CASE("a file changed in place with its size and mtime put back is never linked, whatever the rule") {
  for (auto rule : {LinkRule::content, LinkRule::exact_mtime}) {
    TempDir t;
    write_file(t.path / "dist/a", "original");
    fs::create_directories(t.path / "v1");
    auto tree1 = tree_of(t.path / "dist");
    auto r1 = pump(tree1, BlobStore::build(tree1), t.path / "v1", {}, nullptr, SIZE_MAX, rule);
    REQUIRE(r1.ok);
    // Edited in place after v1 was sealed, then disguised (same size, mtime
    // set back): only its content says it changed.
    struct stat before;
    REQUIRE(::stat((t.path / "v1/a").c_str(), &before) == 0);
    { std::ofstream(t.path / "v1/a", std::ios::binary | std::ios::in) << "TAMPERED"; }
    const timespec ts[2] = {before.st_mtim, before.st_mtim};
    REQUIRE(::utimensat(AT_FDCWD, (t.path / "v1/a").c_str(), ts, 0) == 0);
    rewrite_mtimes(t.path / "dist", 1'700'000'000);
    fs::create_directories(t.path / "v2");
    auto tree2 = tree_of(t.path / "dist");
    auto r2 = pump(tree2, BlobStore::build(tree2), t.path / "v2", {LocalSource{(t.path / "v1").string(), r1.stored, {}}},
                   nullptr, SIZE_MAX, rule);
    REQUIRE(r2.ok);
    CHECK(r2.result->files_sent == 1);
    CHECK(r2.result->files_linked == 0);
    CHECK(read_file(t.path / "v2/a") == "original");
    CHECK(snapshot(t.path / "v2")["a"].ino != snapshot(t.path / "v1")["a"].ino);
  }
}

namespace {

// The client's earlier contents, in memory (the content cache's part).
struct MemoryBases : BaseSource {
  std::map<Digest, std::string> contents;
  void add(const std::string& c) { contents[sha256(c)] = c; }
  bool has(const Digest& d) const override { return contents.count(d) != 0; }
  std::optional<std::string> read(const Digest& d) const override {
    auto it = contents.find(d);
    if (it == contents.end()) return std::nullopt;
    return it->second;
  }
};

std::string noisy(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::mt19937 rng(seed);
  for (auto& c : s) c = char(rng());  // incompressible: only a patch makes it small
  return s;
}

}  // namespace

TEST_CASE("a changed file whose old content both sides have crosses as a patch against it") {
  TempDir t;
  const std::string old_big = noisy(2 << 20, 1);
  write_file(t.path / "dist/big.bin", old_big);
  write_file(t.path / "dist/small.txt", "tiny");
  fs::create_directories(t.path / "v1");
  auto tree1 = tree_of(t.path / "dist");
  auto r1 = pump(tree1, BlobStore::build(tree1), t.path / "v1", {});
  REQUIRE(r1.ok);

  std::string new_big = old_big;
  new_big.replace(1 << 20, 100, std::string(100, 'x'));  // 100 bytes changed in the middle
  write_file(t.path / "dist/big.bin", new_big);
  write_file(t.path / "dist/small.txt", "tiny, changed");
  fs::create_directories(t.path / "v2");
  auto tree2 = tree_of(t.path / "dist");
  auto blobs2 = BlobStore::lazy(tree2);
  blobs2.add_manifest(tree2.manifest);
  MemoryBases bases;
  bases.add(old_big);
  blobs2.set_bases(&bases);
  // Protocol 2 answers patches by count ("ok"), 1 by name.
  const std::uint32_t protocol = GENERATE(1u, 2u);
  auto r2 = pump(tree2, blobs2, t.path / "v2", {LocalSource{(t.path / "v1").string(), r1.stored, {}}}, nullptr,
                 SIZE_MAX, LinkRule::content, nullptr, protocol);
  INFO(r2.client_error << " / " << r2.server_error);
  REQUIRE(r2.ok);
  CHECK(read_file(t.path / "v2/big.bin") == new_big);
  require_matches_manifest(t.path / "v2", r2.stored);
  CHECK(r2.result->files_sent == 2);
  CHECK(r2.result->files_patched == 1);  // small.txt is under the patch minimum: whole
  CHECK(r2.result->patches_failed == 0);
  CHECK(r2.result->bytes_sent < 4096);  // 2 MiB of noise: only the change crossed
}

TEST_CASE("a patch against a base that turns out different is detected by the digest and resent whole") {
  TempDir t;
  const std::string old_big = noisy(256 << 10, 2);
  write_file(t.path / "dist/a.bin", old_big);
  write_file(t.path / "dist/b.bin", old_big + "b");
  fs::create_directories(t.path / "v1");
  auto tree1 = tree_of(t.path / "dist");
  auto r1 = pump(tree1, BlobStore::build(tree1), t.path / "v1", {});
  REQUIRE(r1.ok);

  std::string new_a = old_big, new_b = old_big + "b";
  new_a[1000] ^= 1;
  new_b[2000] ^= 1;
  write_file(t.path / "dist/a.bin", new_a);
  write_file(t.path / "dist/b.bin", new_b);
  // a: the host's old file was changed in place after v1 was received (its
  // base no longer has the digest it offered). b: the client's copy of the
  // old content is not what the host has (a damaged cache).
  {
    std::string tampered = old_big;
    tampered[5] ^= 1;
    std::ofstream(t.path / "v1/a.bin", std::ios::binary | std::ios::in) << tampered;
  }
  fs::create_directories(t.path / "v2");
  auto tree2 = tree_of(t.path / "dist");
  auto blobs2 = BlobStore::lazy(tree2);
  MemoryBases bases;
  bases.add(old_big);
  // Damaged where the new content differs from the real base, so the patch
  // copies that byte from the base (a patch is exact wherever the two bases
  // agree, whatever else differs).
  bases.contents[sha256(old_big + "b")] = new_b;
  blobs2.set_bases(&bases);
  blobs2.add_manifest(tree2.manifest);
  // Protocol 2 names each resend after a count of the answers before it.
  const std::uint32_t protocol = GENERATE(1u, 2u);
  // The local source's manifest still says a.bin holds old_big.
  auto r2 = pump(tree2, blobs2, t.path / "v2", {LocalSource{(t.path / "v1").string(), r1.stored, {}}}, nullptr,
                 SIZE_MAX, LinkRule::content, nullptr, protocol);
  INFO(r2.client_error << " / " << r2.server_error);
  REQUIRE(r2.ok);
  CHECK(read_file(t.path / "v2/a.bin") == new_a);
  CHECK(read_file(t.path / "v2/b.bin") == new_b);
  CHECK(r2.result->patches_failed == 2);
  CHECK(r2.result->files_patched == 0);
  CHECK(r2.result->files_sent == 2);
  require_matches_manifest(t.path / "v2", r2.stored);
  for (const auto& [path, n] : snapshot(t.path / "v2")) CHECK(path.rfind(".pbx-", 0) == std::string::npos);
}

TEST_CASE("without the old content on the client, or against an older server, contents go whole") {
  TempDir t;
  const std::string old_big = noisy(64 << 10, 4);
  write_file(t.path / "dist/a.bin", old_big);
  fs::create_directories(t.path / "v1");
  auto tree1 = tree_of(t.path / "dist");
  auto r1 = pump(tree1, BlobStore::build(tree1), t.path / "v1", {});
  REQUIRE(r1.ok);
  std::string new_a = old_big;
  new_a[7] ^= 1;
  write_file(t.path / "dist/a.bin", new_a);
  fs::create_directories(t.path / "v2");
  auto tree2 = tree_of(t.path / "dist");
  auto blobs2 = BlobStore::lazy(tree2);
  MemoryBases nothing;
  blobs2.set_bases(&nothing);
  auto r2 = pump(tree2, blobs2, t.path / "v2", {LocalSource{(t.path / "v1").string(), r1.stored, {}}});
  REQUIRE(r2.ok);
  CHECK(r2.result->files_patched == 0);
  CHECK(r2.result->files_sent == 1);
  CHECK(r2.result->bytes_sent > (64u << 10));
  CHECK(read_file(t.path / "v2/a.bin") == new_a);
}

TEST_CASE("patch frames the receiver did not offer are refused") {
  TempDir t;
  write_file(t.path / "dist/a.bin", noisy(8 << 10, 5));
  fs::create_directories(t.path / "v1");
  auto tree = tree_of(t.path / "dist");
  std::vector<std::string> lines;
  Receiver rx((t.path / "v1").string(), {}, [&](const std::string& l) { lines.push_back(l); }, LinkRule::content);
  REQUIRE(rx.feed(encode_hello() + encode_manifest(tree.manifest)));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("bases") == std::string::npos);  // no local version: nothing to patch against
  const Digest d = tree.manifest.entries.back().digest;
  CHECK_FALSE(rx.feed(encode_patch_begin(d, 8 << 10, 10, sha256("x"))));
  CHECK_THAT(rx.error(), Catch::Contains("against a base that was not offered"));
}
