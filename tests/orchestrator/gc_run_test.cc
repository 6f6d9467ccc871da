// fleet_gc and fleet_status over scripted hosts: what runs on each host, the
// states, summaries and exit statuses, each in milliseconds.
#include <catch2/catch.hpp>

#include "orchestrator/gc_run.h"
#include "orchestrator/status_run.h"
#include "tests/orchestrator/scripted_fleet.h"

using namespace plugbox::orchestrator;
using namespace plugbox::orchestrator::test;
using plugbox::transport::Reply;
using plugbox::transport::ScriptedExec;

namespace {

using Lines = std::vector<std::string>;

struct Fleet : ScriptedFleet {
  explicit Fleet(int n = 3) : ScriptedFleet(n), hosts(planned()) {}
  std::vector<PlannedHost> hosts;

  RunOutcome gc(int keep = 5, bool dry_run = false, int parallel = 50) {
    auto o = run(fleet_gc(context(hosts, parallel), keep, dry_run));
    INFO(reporter.dump());
    return o;
  }
  std::vector<HostStatusRow> status() { return run(fleet_status(context(hosts))); }
};

}  // namespace

TEST_CASE("gc: every host collects, its answer is reported, exit 0") {
  Fleet f;
  f.t.every_host().on("gc --keep").reply(Reply{.out = "removed 2025-11-01T00:00:00\n"});
  auto o = f.gc(3);

  CHECK(o.exit == ExitStatus::ok);
  CHECK(o.summary == "gc --keep 3 on 3 host(s)");
  for (const auto& n : f.names) {
    INFO(n);
    CHECK(f.steps(n) == Lines{"status --json", "gc --keep 3"});
    CHECK(standing(o, n).state == HostState::collected);
    CHECK(standing(o, n).live == kPrev);
    CHECK(f.reporter.said(n, "gc", "removed 2025-11-01T00:00:00", Event::Level::ok));
  }
}

TEST_CASE("gc: --dry-run asks the host what it would remove") {
  Fleet f(1);
  auto o = f.gc(5, /*dry_run=*/true);
  CHECK(o.exit == ExitStatus::ok);
  CHECK(o.summary == "dry run: gc --keep 5 on 1 host(s)");
  CHECK(f.steps("web1") == Lines{"status --json", "gc --keep 5 --dry-run"});
  CHECK(standing(o, "web1").state == HostState::gc_dry_run);
  CHECK(f.reporter.said("web1", "gc", "nothing to remove"));
}

TEST_CASE("gc: a fresh home has nothing deployed: no gc runs there, exit 0") {
  Fleet f(2);
  f.live["web2"] = HostLive{false, "", ""};
  auto o = f.gc();
  CHECK(o.exit == ExitStatus::ok);
  CHECK(f.steps("web2") == Lines{"status --json"});
  CHECK(standing(o, "web2").state == HostState::nothing_deployed);
  CHECK(standing(o, "web1").state == HostState::collected);
  CHECK(f.reporter.said("web2", "gc", "nothing deployed here"));
}

TEST_CASE("gc: gc failing on a host: gc_failed, exit 1") {
  Fleet f;
  f.t.host("web2").on("gc --keep").reply(Reply{.err = "gc: the deploy lock is held by owner-9\n", .status = 1});
  auto o = f.gc();

  CHECK(o.exit == ExitStatus::failed);
  CHECK(o.summary == "gc --keep 5 on 3 host(s), 1 failed");
  const auto& s = standing(o, "web2");
  CHECK(s.state == HostState::gc_failed);
  CHECK(s.error == "gc: exit 1: gc: the deploy lock is held by owner-9");
  CHECK(needs_attention(s.state));
  CHECK(standing(o, "web1").state == HostState::collected);
}

TEST_CASE("gc: an unreachable host: exit 1") {
  Fleet f(2);
  f.t.host("web1").open_fails(std::errc::connection_refused);
  auto o = f.gc();

  CHECK(o.exit == ExitStatus::failed);
  CHECK(f.steps("web1").empty());
  CHECK(standing(o, "web1").state == HostState::unreachable);
  CHECK_FALSE(standing(o, "web1").error.empty());
  CHECK(standing(o, "web2").state == HostState::collected);
  CHECK(o.summary == "gc --keep 5 on 2 host(s), 1 failed");
}

TEST_CASE("gc: a status that cannot be read: no gc runs there, gc_failed") {
  Fleet f(1);
  f.t.host("web1").on("status --json").reply(Reply{.out = "Usage: plugbox-server [OPTIONS]\n"});
  auto o = f.gc();

  CHECK(o.exit == ExitStatus::failed);
  CHECK(f.steps("web1") == Lines{"status --json"});
  CHECK(standing(o, "web1").state == HostState::gc_failed);
  CHECK_THAT(standing(o, "web1").error, Catch::Contains("printed no status JSON"));
}

TEST_CASE("gc: Ctrl-C: the hosts not begun are skipped, exit 130") {
  Fleet f;
  f.t.host("web1").on("gc --keep").reply(after_doing([&f](ScriptedExec&) { f.interrupt.raise(); }));
  auto o = f.gc(5, false, /*parallel=*/1);

  CHECK(o.exit == ExitStatus::interrupted);
  CHECK(o.summary == "gc --keep 5 on 1 of 3 host(s); interrupted: 2 host(s) skipped (run it again to finish)");
  CHECK(standing(o, "web1").state == HostState::collected);
  CHECK(standing(o, "web2").state == HostState::gc_skipped);
  CHECK(standing(o, "web3").state == HostState::gc_skipped);
  // Every host's status is read before any collects; the skipped ones ran nothing else.
  CHECK(f.steps("web2") == Lines{"status --json"});
  CHECK(f.steps("web3") == Lines{"status --json"});
}

TEST_CASE("gc: a host locked for maintenance: no host collects, its line says who, why and how long, exit 1") {
  Fleet f;
  f.live["web2"].record = {{"hold", {{"owner", "alice@laptop"}, {"since", "2026-03-01T00:00:00Z"}, {"held_s", 7980},
                                     {"message", "db migration"}, {"problem", nullptr}}}};
  auto o = f.gc();

  CHECK(o.exit == ExitStatus::failed);
  CHECK(o.summary ==
        "nothing collected: 1 selected host(s) locked for maintenance (`plugbox fleet status` says by whom and why)");
  for (const auto& n : f.names) CHECK(f.steps(n) == Lines{"status --json"});
  CHECK(standing(o, "web2").state == HostState::gc_failed);
  CHECK(standing(o, "web2").error == "locked for maintenance by alice@laptop for 2h13m: 'db migration'; `plugbox "
                                     "fleet unlock` ends it (--force for someone else's)");
  CHECK(standing(o, "web1").state == HostState::held_off);
  CHECK(standing(o, "web3").state == HostState::held_off);
  CHECK(f.reporter.said("web2", "gc", "locked for maintenance by alice@laptop", Event::Level::fail));

  // An unreadable hold holds the host all the same.
  Fleet u(1);
  u.live["web1"].record = {{"hold", {{"owner", nullptr}, {"since", nullptr}, {"held_s", nullptr},
                                     {"message", nullptr}, {"problem", "the maintenance lock /h/deploy/.plugbox/hold "
                                                                       "is not a hold record"}}}};
  auto ou = u.gc();
  CHECK(ou.exit == ExitStatus::failed);
  CHECK(u.steps("web1") == Lines{"status --json"});
  CHECK(standing(ou, "web1").error == "the maintenance lock /h/deploy/.plugbox/hold is not a hold record, so this "
                                      "host stays locked: `plugbox fleet unlock --force` removes it");
}

TEST_CASE("status: a row per host, read without the lock, an unreachable host makes exit 1") {
  Fleet f;
  f.live["web1"] = HostLive{true, kV, kPrev};
  f.t.host("web2").open_fails(std::errc::connection_refused);
  f.t.host("web3").on("status --json").reply(Reply{.out = status_json(true, kPrev, kOld, "owner-9")});
  auto rows = f.status();

  REQUIRE(rows.size() == 3);
  CHECK(rows[0].host == "web1");
  CHECK(rows[1].host == "web2");
  const auto& r1 = row(rows, "web1");
  CHECK(r1.reachable);
  CHECK(r1.error.empty());
  REQUIRE(r1.status);
  CHECK(r1.status->live == kV);
  CHECK(r1.status->previous == kPrev);
  CHECK(r1.status->versions.size() == 2);
  const auto& r2 = row(rows, "web2");
  CHECK_FALSE(r2.reachable);
  CHECK_FALSE(r2.error.empty());
  CHECK_FALSE(r2.status);
  REQUIRE(row(rows, "web3").status);
  CHECK(row(rows, "web3").status->lock_owner == "owner-9");
  for (const auto& n : f.names) CHECK(f.count(n, "lock") == 0);
  CHECK(f.steps("web1") == Lines{"status --json"});
  CHECK(status_exit(rows) == ExitStatus::failed);

  auto table = render_status_table(rows);
  CHECK_THAT(table, Catch::StartsWith("HOST"));
  CHECK_THAT(table, Catch::Contains(kV));
  CHECK_THAT(table, Catch::Contains("owner-9"));
  CHECK_THAT(table, Catch::Contains("NO ("));
  auto j = status_rows_json(rows);
  REQUIRE(j.size() == 3);
  CHECK(j[0]["live"] == kV);
  CHECK(j[1]["reachable"] == false);
  CHECK(j[1]["live"].is_null());
}

TEST_CASE("status: every host read: exit 0, a status that cannot be read: reachable but exit 1") {
  Fleet f(2);
  f.live["web2"] = HostLive{false, "", ""};
  auto rows = f.status();
  CHECK(status_exit(rows) == ExitStatus::ok);
  REQUIRE(row(rows, "web2").status);
  CHECK_FALSE(row(rows, "web2").status->initialised);

  Fleet g(1);
  g.t.host("web1").on("status --json").reply(Reply{.out = "not json\n"});
  auto bad = g.status();
  CHECK(bad[0].reachable);
  CHECK_THAT(bad[0].error, Catch::Contains("printed no status JSON"));
  CHECK(status_exit(bad) == ExitStatus::failed);
  CHECK_THAT(render_status_table(bad), Catch::Contains("yes (status:"));
}

TEST_CASE("status: a host locked for maintenance shows who, how long and why in LOCK and as JSON") {
  Fleet f(2);
  f.live["web2"].record = {{"hold", {{"owner", "alice@laptop"}, {"since", "2026-03-01T00:00:00Z"}, {"held_s", 7980},
                                     {"message", "db migration"}, {"problem", nullptr}}}};
  auto rows = f.status();
  CHECK(status_exit(rows) == ExitStatus::ok);  // a locked host is read all the same
  REQUIRE(row(rows, "web2").status);
  REQUIRE(row(rows, "web2").status->hold);
  CHECK(row(rows, "web2").status->hold->owner == "alice@laptop");
  CHECK_FALSE(row(rows, "web1").status->hold);
  auto table = render_status_table(rows);
  CHECK_THAT(table, Catch::Contains("maintenance: alice@laptop for 2h13m: 'db migration'"));
  auto j = status_rows_json(rows);
  CHECK(j[0]["hold"].is_null());
  CHECK(j[1]["hold"]["owner"] == "alice@laptop");
  CHECK(j[1]["hold"]["held_s"] == 7980);
  CHECK(j[1]["hold"]["message"] == "db migration");
  CHECK(j[1]["hold"]["problem"].is_null());
}
