// fleet_lock and fleet_unlock over scripted hosts: what runs on each host,
// the table's actions, and the exit status.
#include <catch2/catch.hpp>

#include "orchestrator/lock_run.h"
#include "tests/orchestrator/scripted_fleet.h"

using namespace plugbox::orchestrator;
using namespace plugbox::orchestrator::test;
using plugbox::transport::Reply;

namespace {

using Lines = std::vector<std::string>;

struct Fleet : ScriptedFleet {
  explicit Fleet(int n = 3) : ScriptedFleet(n), hosts(planned()) {
    t.every_host().on(" hold --message ").reply(Reply{.out = "held by owner-1 since 2026-03-01T00:00:00Z: 'db'\n"});
    t.every_host().on(" release").reply(Reply{.out = "released the maintenance lock of owner-1: 'db'\n"});
  }
  std::vector<PlannedHost> hosts;

  std::vector<LockRow> lock(const std::string& message) {
    auto rows = run(fleet_lock(context(hosts), message));
    INFO(reporter.dump());
    return rows;
  }
  std::vector<LockRow> unlock(bool force) { return run(fleet_unlock(context(hosts), force)); }
};

}  // namespace

TEST_CASE("fleet lock: init, then hold with the message, on every host, a table and exit 0") {
  Fleet f;
  auto rows = f.lock("db migration until 18:00");
  REQUIRE(rows.size() == 3);
  for (const auto& n : f.names) {
    INFO(n);
    CHECK(f.steps(n) == Lines{"init", "hold --message 'db migration until 18:00'"});
    CHECK(row(rows, n).action == "locked");
    CHECK(row(rows, n).error.empty());
    CHECK(f.reporter.said(n, "lock", "locked", Event::Level::ok));
  }
  CHECK(lock_exit(rows) == ExitStatus::ok);
  CHECK(render_lock_table(rows) == "HOST  ACTION\nweb1  locked\nweb2  locked\nweb3  locked\n");
  auto j = lock_rows_json(rows);
  CHECK(j[0] == nlohmann::json{{"host", "web1"}, {"action", "locked"}, {"error", nullptr}});
}

TEST_CASE("fleet lock: ours already is still locked, someone else's, a deploy running or unreachable is failed, exit 1") {
  Fleet f(4);
  f.t.host("web1").on(" hold --message ").reply(Reply{.out = "still held by owner-1 since T: 'db'\n"});
  f.t.host("web2").on(" hold --message ").reply(
      Reply{.err = "plugbox-server hold: locked for maintenance by bob@desk for 5m: 'kernel'; `plugbox fleet unlock` "
                   "ends it (--force for someone else's)\n",
            .status = 1});
  f.t.host("web3").on(" hold --message ").reply(
      Reply{.err = "plugbox-server hold: the deploy lock is held by owner 'plugbox-carol@x-1-V'\n", .status = 1});
  f.t.host("web4").open_fails(std::errc::connection_refused);
  auto rows = f.lock("db");

  CHECK(row(rows, "web1").action == "still locked");
  CHECK(row(rows, "web2").action == "failed");
  CHECK(row(rows, "web2").error ==
        "hold: exit 1: plugbox-server hold: locked for maintenance by bob@desk for 5m: 'kernel'; `plugbox fleet "
        "unlock` ends it (--force for someone else's)");
  CHECK(row(rows, "web3").action == "failed");
  CHECK_THAT(row(rows, "web3").error, Catch::Contains("the deploy lock is held by owner 'plugbox-carol@x-1-V'"));
  CHECK(row(rows, "web4").action == "unreachable");
  CHECK_FALSE(row(rows, "web4").error.empty());
  CHECK(f.steps("web4").empty());
  CHECK(lock_exit(rows) == ExitStatus::failed);
  CHECK_THAT(render_lock_table(rows), Catch::Contains("web2  failed: hold: exit 1: plugbox-server hold: locked for "
                                                      "maintenance by bob@desk"));
}

TEST_CASE("fleet lock: a failing init: failed, no hold sent there") {
  Fleet f(1);
  f.t.host("web1").on(" init").reply(Reply{.err = "plugbox-server init: /srv/shop is not a directory\n", .status = 2});
  auto rows = f.lock("db");
  CHECK(f.steps("web1") == Lines{"init"});
  CHECK(row(rows, "web1").action == "failed");
  CHECK_THAT(row(rows, "web1").error, Catch::Contains("init: exit 2"));
  CHECK(lock_exit(rows) == ExitStatus::failed);
}

TEST_CASE("fleet unlock: release on every host, --force passed on, none there is not locked, exit 0") {
  Fleet f(2);
  f.t.host("web2").on(" release").reply(Reply{.out = "not locked for maintenance: nothing to release\n"});
  auto rows = f.unlock(false);
  CHECK(f.steps("web1") == Lines{"release"});
  CHECK(row(rows, "web1").action == "unlocked");
  CHECK(row(rows, "web2").action == "not locked");
  CHECK(lock_exit(rows) == ExitStatus::ok);

  Fleet g(1);
  g.t.host("web1").on(" release").reply(
      Reply{.err = "plugbox-server release: locked for maintenance by bob@desk for 5m: 'kernel', not by owner-1: only "
                   "its holder unlocks it; `plugbox fleet unlock --force` ends someone else's\n",
            .status = 1});
  auto refused = g.unlock(false);
  CHECK(refused[0].action == "failed");
  CHECK_THAT(refused[0].error, Catch::Contains("only its holder unlocks it"));
  CHECK(lock_exit(refused) == ExitStatus::failed);

  Fleet h(1);
  h.unlock(true);
  CHECK(h.steps("web1") == Lines{"release --force"});
}
