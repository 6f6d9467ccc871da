#include <catch2/catch.hpp>
#include <sys/stat.h>

#include "tests/upload/tree_util.h"

using namespace plugbox::upload;
using namespace plugbox::upload::testutil;

TEST_CASE("upload_version: the directory's contents become the version") {
  TempDir t;
  write_file(t.path / "dist/a/b.txt", "hello");
  write_file(t.path / "dist/c", "x", 0755);
  auto tree = build_manifest(TreeSpec{t.path, std::string("dist"), {}});
  std::vector<std::string> paths;
  for (const auto& e : tree.manifest.entries) paths.push_back(e.path);
  CHECK(paths == std::vector<std::string>{"a", "a/b.txt", "c"});
  CHECK(tree.manifest.entries[1].digest == sha256("hello"));
  CHECK(tree.manifest.entries[2].mode == 0755);
}

TEST_CASE("upload: each path is copied into the version by its last component") {
  TempDir t;
  write_file(t.path / "build/bin/app", "app");
  write_file(t.path / "static/x.css", "css");
  auto tree = build_manifest(TreeSpec{t.path, std::nullopt, {"build/bin", "static"}});
  std::vector<std::string> paths;
  for (const auto& e : tree.manifest.entries) paths.push_back(e.path);
  CHECK(paths == std::vector<std::string>{"bin", "bin/app", "static", "static/x.css"});
}

TEST_CASE("the builder refuses what cannot be uploaded, naming it") {
  TempDir t;
  SECTION("a top-level previous") {
    write_file(t.path / "dist/previous", "x");
    CHECK_THROWS_WITH(build_manifest(TreeSpec{t.path, std::string("dist"), {}}),
                      Catch::Contains("top-level 'previous'") && Catch::Contains("rename it"));
  }
  SECTION("a top-level next from upload") {
    write_file(t.path / "next/x", "x");
    CHECK_THROWS_WITH(build_manifest(TreeSpec{t.path, std::nullopt, {"next"}}), Catch::Contains("top-level 'next'"));
  }
  SECTION("a fifo") {
    fs::create_directories(t.path / "dist");
    ::mkfifo((t.path / "dist/pipe").c_str(), 0644);
    CHECK_THROWS_WITH(build_manifest(TreeSpec{t.path, std::string("dist"), {}}),
                      Catch::Contains("dist/pipe") && Catch::Contains("device, fifo or socket"));
  }
  SECTION("a missing path") {
    CHECK_THROWS_WITH(build_manifest(TreeSpec{t.path, std::string("dist"), {}}), Catch::Contains("did prepare run"));
  }
  SECTION("two upload paths with one name") {
    write_file(t.path / "a/bin/x", "1");
    write_file(t.path / "b/bin/y", "2");
    CHECK_THROWS_WITH(build_manifest(TreeSpec{t.path, std::nullopt, {"a/bin", "b/bin"}}),
                      Catch::Contains("two upload paths end in 'bin'"));
  }
}
