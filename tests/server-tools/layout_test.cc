#include "server-tools/layout.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "server-tools/init.h"
#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

TEST_CASE("layout paths follow docs/DESIGN.md section 2", "[layout]") {
  Layout l("/srv/shop/");
  CHECK(l.home == "/srv/shop");
  CHECK(l.home_live() == "/srv/shop/live");
  CHECK(l.live() == "/srv/shop/deploy/live");
  CHECK(l.version_dir("2026-11-25T21:40:00") == "/srv/shop/deploy/2026-11-25T21:40:00");
  CHECK(l.record("2026-11-25T21:40:00") == "/srv/shop/deploy/.plugbox/versions/2026-11-25T21:40:00.json");
  CHECK(l.lock() == "/srv/shop/deploy/.plugbox/lock");
  CHECK(l.oplock() == "/srv/shop/deploy/.plugbox/oplock");
  CHECK(l.log() == "/srv/shop/deploy/.plugbox/log");
  CHECK(Layout("/srv/./shop/../shop").home == "/srv/shop");
  CHECK(Layout("relative").home.is_absolute());
}

TEST_CASE("layout_problem: a home that is not a plugbox layout", "[layout]") {
  TempDir t;
  const auto home = t.path() / "h";

  auto p = layout_problem(Layout(home));
  REQUIRE(p);
  CHECK(p->find(home.string() + " is not a directory") != std::string::npos);
  CHECK(p->find("init") != std::string::npos);

  fs::create_directories(home / "deploy");
  p = layout_problem(Layout(home));
  REQUIRE(p);
  CHECK(p->find("is not a plugbox layout (no deploy/.plugbox/versions/)") != std::string::npos);
  CHECK(p->find("plugbox-server --home " + home.string() + " init") != std::string::npos);

  fs::create_directories(home / "deploy/.plugbox/versions");
  CHECK_FALSE(layout_problem(Layout(home)));

  fs::create_directory(home / "deploy/live");  // a directory where the link should be
  p = layout_problem(Layout(home));
  REQUIRE(p);
  CHECK(p->find("deploy/live is a directory, not a link") != std::string::npos);
}

TEST_CASE("init_problem: what init refuses to disturb", "[layout]") {
  TempDir t;
  SECTION("a missing home is made only one level deep") {
    CHECK_FALSE(init_problem(Layout(t.path() / "new")));
    auto p = init_problem(Layout(t.path() / "a/b"));
    REQUIRE(p);
    CHECK(p->find("does not exist and neither does its parent") != std::string::npos);
  }
  SECTION("home is a file") {
    std::ofstream(t.path() / "f") << "x";
    auto p = init_problem(Layout(t.path() / "f"));
    REQUIRE(p);
    CHECK(p->find("is not a directory") != std::string::npos);
  }
  SECTION("a foreign deploy directory") {
    fs::create_directories(t.path() / "deploy/something");
    auto p = init_problem(Layout(t.path()));
    REQUIRE(p);
    CHECK(p->find("exists, is not empty and has no .plugbox/") != std::string::npos);
  }
  SECTION("an empty deploy directory is fine") {
    fs::create_directories(t.path() / "deploy");
    CHECK_FALSE(init_problem(Layout(t.path())));
  }
  SECTION("HOME/live that is not ours") {
    fs::create_symlink("elsewhere", t.path() / "live");
    auto p = init_problem(Layout(t.path()));
    REQUIRE(p);
    CHECK(p->find("exists and is not the link -> deploy/live") != std::string::npos);
  }
  SECTION("config is a file") {
    std::ofstream(t.path() / "config") << "x";
    auto p = init_problem(Layout(t.path()));
    REQUIRE(p);
    CHECK(p->find("config is a file, not a directory") != std::string::npos);
  }
  SECTION("the log is a directory") {
    fs::create_directories(t.path() / "deploy/.plugbox/log");
    auto p = init_problem(Layout(t.path()));
    REQUIRE(p);
    CHECK(p->find("log is a directory, not a file") != std::string::npos);
  }
}

TEST_CASE("never_deployed: a directory init could lay out, with no deploy/.plugbox/", "[layout]") {
  TempDir t;
  const auto home = t.path() / "h";
  CHECK_FALSE(never_deployed(Layout(home)));  // absent: a wrong --home, not a first deploy
  fs::create_directories(home);
  CHECK(never_deployed(Layout(home)));
  fs::create_directories(home / "config");
  fs::create_directories(home / "deploy");
  CHECK(never_deployed(Layout(home)));  // empty deploy/: still nothing deployed
  std::ofstream(home / "deploy/release.tar") << "x";
  CHECK_FALSE(never_deployed(Layout(home)));  // a deploy/ that is not ours
  fs::remove(home / "deploy/release.tar");
  fs::create_directories(home / "deploy/.plugbox");
  CHECK_FALSE(never_deployed(Layout(home)));  // half a layout: layout_problem names it
  must(cli(home, {"init"}));
  CHECK_FALSE(never_deployed(Layout(home)));
  std::ofstream(t.path() / "file") << "x";
  CHECK_FALSE(never_deployed(Layout(t.path() / "file")));
}
