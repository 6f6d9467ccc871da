// Homes the issue-11 probing broke plugbox-server with: config/ or deploy/ as
// symlinks to directories, an empty --home, a deploy/ whose .plugbox/ was
// deleted.
#include <catch2/catch.hpp>

#include "server-tools/layout.h"
#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

TEST_CASE("init accepts config and deploy as symlinks to directories", "[init][issue11]") {
  for (const char* which : {"config", "deploy"}) {
    DYNAMIC_SECTION(which) {
      TempDir t;
      const fs::path home = t.path() / "home";
      fs::create_directories(home);
      fs::create_directories(t.path() / "elsewhere");
      fs::create_directory_symlink(t.path() / "elsewhere", home / which);
      CliResult r = cli(home, {"init"});
      INFO(describe(r));
      CHECK(r.rc == 0);
      CHECK(r.err.empty());
      CHECK(fs::is_symlink(home / which));  // left as the operator made it
      CHECK_FALSE(layout_problem(Layout(home)));
      // A whole deploy works through it.
      deploy(home, vname(1));
      CHECK(link_of(home / "deploy/live") == vname(1));
      CHECK(cli(home, {"init"}).out == home.string() + ": already initialised\n");
    }
  }
}

TEST_CASE("an empty --home is refused, not taken as $HOME", "[server_cli][issue11]") {
  TempDir t;
  const fs::path fake_home = t.path() / "h";
  must(cli(fake_home, {"init"}));
  const Snapshot before = snapshot(t.path());
  for (auto args : std::vector<std::vector<std::string>>{{"--home", "", "init"}, {"--home", "", "status"},
                                                         {"gc", "--keep", "2", "--home", ""}}) {
    CliResult r = cli("", args, {{"HOME", fake_home.string()}});
    INFO(describe(r));
    CHECK(r.rc == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::EndsWith(": --home is empty: pass the service home, e.g. --home /srv/shop (or leave "
                                      "--home out to use $HOME)\n"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK(snapshot_diff(before, snapshot(t.path())).empty());
  // Without --home, $HOME is still the default.
  CHECK(cli("", {"status"}, {{"HOME", fake_home.string()}}).rc == 0);
}

TEST_CASE("a home whose deploy/.plugbox was deleted is told the way forward, and init takes it", "[init][issue11]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string a = vname(1), b = vname(2);
  deploy(home, a);
  deploy(home, b);
  fs::remove_all(home / "deploy/.plugbox");

  const std::string advice = "run `plugbox-server --home " + home.string() +
                             " init` to recreate it: live stays as it is, and the versions there keep their "
                             "trees but, their records lost, count as staged";
  for (auto args : std::vector<std::vector<std::string>>{{"status"}, {"rollback-to"}, {"next-version"}}) {
    CliResult r = cli(home, args);
    INFO(describe(r));
    CHECK(r.rc == 2);
    CHECK_THAT(r.err, Catch::Contains((home / "deploy/.plugbox").string() + " is missing (deleted?)"));
    CHECK_THAT(r.err, Catch::Contains(advice));
  }
  CliResult r = cli(home, {"init"});
  INFO(describe(r));
  REQUIRE(r.rc == 0);
  CHECK(link_of(home / "deploy/live") == b);  // still serving
  auto st = nlohmann::json::parse(must(cli(home, {"status", "--json"})).out);
  CHECK(st["live"] == b);
  // The way on: a new version deploys, the old ones can be removed.
  deploy(home, vname(3));
  CHECK(cli(home, {"remove", a}).rc == 0);
  CHECK(link_of(home / "deploy/live") == vname(3));
}
