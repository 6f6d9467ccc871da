#include "server-tools/fs_ops.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "server-tools/errors.h"
#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

TEST_CASE("kind_of reports what a path itself is", "[fs_ops]") {
  TempDir t;
  std::ofstream(t.path() / "f") << "x";
  fs::create_directory(t.path() / "d");
  fs::create_symlink("d", t.path() / "l");
  CHECK(kind_of(t.path() / "f") == FileKind::regular);
  CHECK(kind_of(t.path() / "d") == FileKind::directory);
  CHECK(kind_of(t.path() / "l") == FileKind::symlink);
  CHECK(kind_of(t.path() / "missing") == FileKind::absent);
  CHECK(kind_of(t.path() / "f/below") == FileKind::absent);
}

TEST_CASE("replace_symlink swaps a link by rename, leaving no temporary", "[fs_ops]") {
  TempDir t;
  fs::create_directory(t.path() / "tmp");
  const auto link = t.path() / "live";
  replace_symlink(link, "A", t.path() / "tmp");
  CHECK(link_of(link) == "A");
  struct stat st;
  REQUIRE(::lstat(link.c_str(), &st) == 0);
  const ino_t first = st.st_ino;
  replace_symlink(link, "B", t.path() / "tmp");
  CHECK(link_of(link) == "B");
  REQUIRE(::lstat(link.c_str(), &st) == 0);
  CHECK(st.st_ino != first);  // a new link took the name: the old one was never edited in place
  CHECK(fs::is_empty(t.path() / "tmp"));
  CHECK(read_link(link) == "B");
  REQUIRE_THROWS_AS(read_link(t.path() / "tmp"), ServerError);
}

TEST_CASE("replace_symlink refuses to replace a directory", "[fs_ops]") {
  TempDir t;
  fs::create_directory(t.path() / "tmp");
  fs::create_directory(t.path() / "dir");
  try {
    replace_symlink(t.path() / "dir", "A", t.path() / "tmp");
    FAIL("replaced a directory");
  } catch (const ServerError& e) {
    CHECK(e.step().rfind("rename ", 0) == 0);
    CHECK(e.code());
  }
  CHECK(fs::is_directory(t.path() / "dir"));
  CHECK(fs::is_empty(t.path() / "tmp"));
}

TEST_CASE("write_file_atomic, append_line, read_file", "[fs_ops]") {
  TempDir t;
  fs::create_directory(t.path() / "tmp");
  const auto f = t.path() / "rec.json";
  write_file_atomic(f, "one", t.path() / "tmp");
  write_file_atomic(f, "two", t.path() / "tmp");
  CHECK(read_file(f) == "two");
  CHECK(fs::is_empty(t.path() / "tmp"));
  append_line(t.path() / "log", "a\n");
  append_line(t.path() / "log", "b\n");
  CHECK(read_file(t.path() / "log") == "a\nb\n");
  CHECK_THROWS_AS(read_file(t.path() / "missing"), ServerError);
}

TEST_CASE("make_dir, remove_file", "[fs_ops]") {
  TempDir t;
  CHECK(make_dir(t.path() / "d"));
  CHECK_FALSE(make_dir(t.path() / "d"));
  std::ofstream(t.path() / "f") << "x";
  CHECK_THROWS_AS(make_dir(t.path() / "f"), ServerError);
  remove_file(t.path() / "f");
  CHECK_FALSE(fs::exists(t.path() / "f"));
  remove_file(t.path() / "f");  // absent: fine
}

TEST_CASE("remove_tree deletes read-only trees without following symlinks", "[fs_ops]") {
  TempDir t;
  const auto tree = t.path() / "tree";
  fs::create_directories(tree / "a/b");
  std::ofstream(tree / "a/b/file") << "data";
  fs::create_directory(t.path() / "outside");
  std::ofstream(t.path() / "outside/keep") << "keep";
  fs::create_directory_symlink(t.path() / "outside", tree / "a/escape");
  fs::permissions(tree / "a/b", fs::perms::owner_read | fs::perms::owner_exec);
  fs::permissions(tree / "a", fs::perms::owner_read | fs::perms::owner_exec);
  remove_tree(tree);
  CHECK_FALSE(fs::exists(tree));
  CHECK(slurp(t.path() / "outside/keep") == "keep");
  remove_tree(tree);  // absent: fine
}

TEST_CASE("tree_size counts regular files, not what symlinks point at", "[fs_ops]") {
  TempDir t;
  fs::create_directories(t.path() / "v/sub");
  std::ofstream(t.path() / "v/a") << "12345";
  std::ofstream(t.path() / "v/sub/b") << "123";
  std::ofstream(t.path() / "big") << std::string(1000, 'x');
  fs::create_symlink("../big", t.path() / "v/link");
  CHECK(tree_size(t.path() / "v") == 8);
}
