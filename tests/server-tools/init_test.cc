#include "server-tools/init.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "server-tools/errors.h"
#include "server-tools/oplog.h"
#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;

TEST_CASE("init creates the whole layout, then is idempotent", "[init]") {
  TempDir t;
  const Layout l(t.path() / "shop");
  const Actor actor = Actor::of_this_process("");
  InitResult r = init_layout(l, {}, actor);
  CHECK(r.created.size() == 11);
  CHECK(fs::is_directory(l.home));
  CHECK(fs::is_directory(l.config()));
  CHECK(link_of(l.home_live()) == "deploy/live");
  for (const auto& d : {l.deploy(), l.state(), l.versions(), l.tmp(), l.trash()}) CHECK(fs::is_directory(d));
  for (const auto& f : {l.lock(), l.oplock(), l.log()}) CHECK(fs::is_regular_file(f));
  CHECK_FALSE(fs::exists(fs::symlink_status(l.live())));  // nothing live yet
  CHECK(missing_layout_parts(l).empty());
  CHECK_FALSE(layout_problem(l));

  auto log = read_changes(l.log());
  REQUIRE(log.size() == 1);
  CHECK(log[0]["command"] == "init");
  CHECK(log[0]["detail"]["created"].size() == 11);

  const Snapshot before = snapshot(t.path());
  InitResult again = init_layout(l, {}, actor);
  CHECK(again.created.empty());
  CHECK(snapshot(t.path()) == before);  // not even a log line
}

TEST_CASE("init completes a partial layout and keeps what is there", "[init]") {
  TempDir t;
  const Layout l(t.path());
  fs::create_directories(l.versions());
  fs::create_directories(l.config());
  std::ofstream(l.config() / "app.conf") << "keep me";
  InitResult r = init_layout(l, {}, Actor::of_this_process(""));
  CHECK(std::find(r.created.begin(), r.created.end(), "deploy/.plugbox/versions") == r.created.end());
  CHECK(std::find(r.created.begin(), r.created.end(), "deploy/.plugbox/log") != r.created.end());
  CHECK(std::find(r.created.begin(), r.created.end(), "live") != r.created.end());
  CHECK(slurp(l.config() / "app.conf") == "keep me");
  CHECK(missing_layout_parts(l).empty());
}

TEST_CASE("init refuses a foreign layout and changes nothing", "[init]") {
  TempDir t;
  fs::create_directories(t.path() / "deploy/old-release");
  const Snapshot before = snapshot(t.path());
  try {
    init_layout(Layout(t.path()), {}, Actor::of_this_process(""));
    FAIL("init accepted a foreign deploy/");
  } catch (const ServerError& e) {
    CHECK(e.status() == ExitStatus::bad_input);
  }
  CHECK(snapshot(t.path()) == before);
}
