// fleet_rollback over scripted hosts: which hosts go back, what runs there,
// and the exit status of every outcome, each in milliseconds.
#include <catch2/catch.hpp>

#include "orchestrator/rollback_run.h"
#include "tests/orchestrator/scripted_fleet.h"

using namespace plugbox::orchestrator;
using namespace plugbox::orchestrator::test;
using plugbox::transport::Reply;
using plugbox::transport::ScriptedExec;

namespace {

using Lines = std::vector<std::string>;

const Lines kLooked = {"lock", "status --json"};
const Lines kBackToPrev = {"lock", "status --json", "switch", "svc-stop", "rollback-to " + kPrev, "svc-start"};

struct Rollback : ScriptedFleet {
  explicit Rollback(int n = 3) : ScriptedFleet(n), hosts(planned()) {
    // web1 and web2 run kV (previous kPrev); web3 is still on kPrev.
    live["web1"] = HostLive{true, kV, kPrev};
    live["web2"] = HostLive{true, kV, kPrev};
    live["web3"] = HostLive{true, kPrev, kOld};
  }
  std::vector<PlannedHost> hosts;
  ServiceConfig svc = ServiceConfig::parse(kService, "/src/shop/plugbox.toml");

  RunOutcome rollback(RollbackOptions opts = {}, int parallel = 50) {
    auto o = run(fleet_rollback(context(hosts, parallel), svc, opts));
    INFO(reporter.dump());
    for (const auto& n : names) CHECK(locks_released(n));
    return o;
  }
};

}  // namespace

TEST_CASE("rollback: by default the newest live version goes back, hosts not on it are left alone") {
  Rollback f;
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::ok);
  CHECK(o.summary == "2 of 2 host(s) went back from " + kV);
  CHECK(f.steps("web1") == kBackToPrev);
  CHECK(f.steps("web2") == kBackToPrev);
  CHECK(f.steps("web3") == kLooked);
  for (std::string n : {"web1", "web2"}) {
    INFO(n);
    const auto& s = standing(o, n);
    CHECK(s.state == HostState::rolled_back);
    CHECK(s.live == kPrev);
    CHECK(s.live_before == kV);
  }
  CHECK(standing(o, "web3").state == HostState::not_live);
  CHECK(standing(o, "web3").live == kPrev);
  CHECK(standing(o, "web3").describe() == "unchanged (live is not " + kV + ")");
  // The commands see the version going live and the one left.
  auto stop = f.lines("web1", "svc-stop");
  REQUIRE(stop.size() == 1);
  CHECK_THAT(stop[0], Catch::Contains("PLUGBOX_VERSION=" + kPrev));
  CHECK_THAT(stop[0], Catch::Contains("PLUGBOX_PREVIOUS=" + kV));
  CHECK(f.reporter.said("web1", "rollback", "back on " + kPrev + " (was " + kV + ")", Event::Level::ok));
  // Never init: a rollback creates nothing.
  CHECK(f.count("web1", "init") == 0);
}

TEST_CASE("rollback: every stop line runs even when one fails, then rollback-to and start") {
  Rollback f(1);
  f.svc = ServiceConfig::parse(R"(
[service]
name = "shop"
upload_version = "dist"
stop = ["svc-stop-a", "svc-stop-b"]
start = ["svc-start"]
)",
                               "/src/shop/plugbox.toml");
  f.t.host("web1").on("svc-stop-a").reply(Reply{.err = "not running\n", .status = 1});
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::ok);
  CHECK(f.steps("web1") == Lines{"lock", "status --json", "switch", "svc-stop-a", "svc-stop-b", "rollback-to " + kPrev, "svc-start"});
  CHECK(standing(o, "web1").state == HostState::rolled_back);
  CHECK(f.reporter.said("web1", "rollback", "stop had failed: stop: exit 1: not running", Event::Level::ok));
}

TEST_CASE("rollback: without a service file only the links move") {
  Rollback f(1);
  f.svc = ServiceConfig{};
  auto o = f.rollback();
  CHECK(o.exit == ExitStatus::ok);
  CHECK(f.steps("web1") == Lines{"lock", "status --json", "switch", "rollback-to " + kPrev});
  CHECK(standing(o, "web1").state == HostState::rolled_back);
}

TEST_CASE("rollback: an unreachable host that might need to go back makes exit 3, the others go back") {
  Rollback f;
  f.t.host("web2").open_fails(std::errc::host_unreachable);
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::incomplete);
  CHECK(o.summary == "1 of 1 host(s) went back from " + kV + "; 1 host(s) need attention");
  CHECK(f.steps("web1") == kBackToPrev);
  CHECK(f.steps("web2").empty());
  const auto& s = standing(o, "web2");
  CHECK(s.state == HostState::rollback_unreachable);
  CHECK_FALSE(s.error.empty());
  CHECK(needs_attention(s.state));
}

TEST_CASE("rollback: unreachable hosts and nothing live on the reached ones: still exit 3 (was exit 0)") {
  Rollback f(2);
  f.live["web2"] = HostLive{true, "", ""};
  f.t.host("web1").open_fails(std::errc::connection_refused);
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::incomplete);
  CHECK(o.summary == "none of the hosts read has a live version: nothing to roll back there; 1 host(s) need attention");
  CHECK(standing(o, "web1").state == HostState::rollback_unreachable);
  CHECK(standing(o, "web2").state == HostState::not_live);
  CHECK(f.steps("web2") == kLooked);
}

TEST_CASE("rollback: a fresh home (no lock to take, status says not initialised): nothing to do, exit 0") {
  Rollback f(2);
  f.live["web1"] = HostLive{false, "", ""};
  f.live["web2"] = HostLive{false, "", ""};
  for (const auto& n : f.names)
    f.t.host(n).on(" lock").reply(
        Reply{.err = "plugbox-server: /home/shop is not a plugbox home\n", .read_stdin = false, .status = 2});
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::ok);
  CHECK(o.summary == "no selected host has a live version: nothing to roll back");
  CHECK(f.steps("web1") == kLooked);
  CHECK(standing(o, "web1").state == HostState::not_live);
  CHECK(standing(o, "web2").state == HostState::not_live);
}

TEST_CASE("rollback: a lock refused on an initialised home: rollback_refused, exit 3, nothing run there") {
  Rollback f;
  f.t.host("web2").on(" lock").reply(Reply{.err = "the deploy lock is held by owner-9\n", .read_stdin = false, .status = 1});
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::incomplete);
  CHECK(f.steps("web2") == kLooked);  // its status is read, nothing more
  const auto& s = standing(o, "web2");
  CHECK(s.state == HostState::rollback_refused);
  CHECK(s.error == "lock: the deploy lock is held by owner-9");
  CHECK(standing(o, "web1").state == HostState::rolled_back);
}

TEST_CASE("rollback: a host locked for maintenance: no host goes back, its line says who and why, exit 3") {
  Rollback f;
  const std::string line = "locked for maintenance by alice@laptop for 5m: 'db migration'; `plugbox fleet unlock` "
                            "ends it (--force for someone else's)";
  f.t.host("web2").on(" lock").reply(Reply{.err = line + "\n", .read_stdin = false, .status = 1});
  f.live["web2"].record = {{"hold", {{"owner", "alice@laptop"}, {"since", "2026-03-01T00:00:00Z"}, {"held_s", 300},
                                     {"message", "db migration"}, {"problem", nullptr}}}};
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::incomplete);
  CHECK(o.summary == "nothing rolled back: 1 selected host(s) locked for maintenance (`plugbox fleet status` says by "
                     "whom and why); 1 host(s) need attention");
  for (const auto& n : f.names) CHECK(f.steps(n) == kLooked);
  CHECK(standing(o, "web2").state == HostState::rollback_refused);
  CHECK(standing(o, "web2").error == "lock: " + line);
  CHECK(standing(o, "web1").state == HostState::held_off);  // it would have gone back
  CHECK(standing(o, "web3").state == HostState::not_live);

  // A dry run takes no lock: it reads the hold and says the same.
  Rollback d;
  d.live["web2"].record = f.live["web2"].record;
  RollbackOptions dry;
  dry.dry_run = true;
  auto od = d.rollback(dry);
  CHECK(standing(od, "web2").state == HostState::rollback_refused);
  CHECK(standing(od, "web2").error == line);
  CHECK(standing(od, "web1").state == HostState::held_off);
}

TEST_CASE("rollback: --from a version that is live somewhere: only those hosts go back") {
  Rollback f;
  RollbackOptions opts;
  opts.from = kPrev;
  auto o = f.rollback(opts);

  CHECK(o.exit == ExitStatus::ok);
  CHECK(f.steps("web3") == Lines{"lock", "status --json", "switch", "svc-stop", "rollback-to " + kOld, "svc-start"});
  CHECK(f.steps("web1") == kLooked);
  CHECK(standing(o, "web3").state == HostState::rolled_back);
  CHECK(standing(o, "web3").live == kOld);
  CHECK(standing(o, "web1").state == HostState::not_live);
}

TEST_CASE("rollback: --from a version nobody has live: bad input, exit 2, nothing touched") {
  Rollback f;
  RollbackOptions opts;
  opts.from = kOld;
  auto o = f.rollback(opts);

  CHECK(o.exit == ExitStatus::bad_input);
  CHECK(o.summary == "no selected host has " + kOld + " live: nothing to roll back (see `plugbox fleet status`)");
  for (const auto& n : f.names) CHECK(f.steps(n) == kLooked);
}

TEST_CASE("rollback: the version live with no previous: no_previous, exit 3") {
  Rollback f(2);
  f.live["web1"] = HostLive{true, kV, ""};
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::incomplete);
  CHECK(f.steps("web1") == kLooked);
  CHECK(standing(o, "web1").state == HostState::no_previous);
  CHECK(standing(o, "web1").describe() == "no previous version: stays on " + kV);
  CHECK(standing(o, "web2").state == HostState::rolled_back);
}

TEST_CASE("rollback: rollback-to failing: rollback_failed, no start, exit 3") {
  Rollback f(1);
  f.t.host("web1").on("rollback-to").reply(Reply{.err = "rollback-to: disk full\n", .status = 1});
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::incomplete);
  CHECK(f.steps("web1") == Lines{"lock", "status --json", "switch", "svc-stop", "rollback-to " + kPrev});
  const auto& s = standing(o, "web1");
  CHECK(s.state == HostState::rollback_failed);
  CHECK(s.live == kV);
  CHECK(s.error == "rollback-to: exit 1: rollback-to: disk full");
}

TEST_CASE("rollback: start failing after rollback-to: start_failed, live is the previous, exit 3") {
  Rollback f(1);
  f.t.host("web1").on("svc-start").reply(Reply{.err = "port in use\n", .status = 1});
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::incomplete);
  CHECK(f.steps("web1") == kBackToPrev);
  const auto& s = standing(o, "web1");
  CHECK(s.state == HostState::start_failed);
  CHECK(s.live == kPrev);
  CHECK(s.describe() == "back on " + kPrev + " but START FAILED");
  CHECK(s.error == "start: exit 1: port in use");
}

TEST_CASE("rollback: --dry-run reads where hosts stand, prints the steps, runs nothing that changes") {
  Rollback f;
  RollbackOptions opts;
  opts.dry_run = true;
  auto o = f.rollback(opts);

  CHECK(o.exit == ExitStatus::ok);
  CHECK(o.summary == "dry run: 2 host(s) would go back from " + kV);
  for (const auto& n : f.names) CHECK(f.steps(n) == Lines{"status --json"});  // not even the lock
  CHECK(standing(o, "web1").state == HostState::would_roll_back);
  CHECK(standing(o, "web1").describe() == "would go back to " + kPrev);
  CHECK(standing(o, "web3").state == HostState::not_live);
  REQUIRE(f.reporter.said("web1", "rollback", "would run:"));
  for (const auto& e : f.reporter.events)
    if (e.host == "web1") {
      CHECK_THAT(e.what, Catch::Contains("svc-stop"));
      CHECK_THAT(e.what, Catch::Contains("--owner " + kOwner + " rollback-to " + kPrev));
      CHECK_THAT(e.what, Catch::Contains("svc-start"));
      CHECK_THAT(e.what, Catch::Contains("a failure is recorded and the next step runs"));
    }
}

TEST_CASE("rollback: Ctrl-C before any host began: every host left alone (rollback_not_begun), exit 130") {
  Rollback f;
  f.t.host("web3").on("status --json").reply(after_doing([&f](ScriptedExec&) { f.interrupt.raise(); },
                                                         Reply{.out = status_json(true, kPrev, kOld)}));
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::interrupted);
  CHECK_THAT(o.summary, Catch::EndsWith("(interrupted)"));
  CHECK(f.steps("web1") == kLooked);
  CHECK(f.steps("web2") == kLooked);
  CHECK(standing(o, "web1").state == HostState::rollback_not_begun);
  CHECK(standing(o, "web2").state == HostState::rollback_not_begun);
  CHECK(standing(o, "web1").live == kV);
  CHECK(needs_attention(standing(o, "web1").state));
}

TEST_CASE("rollback: Ctrl-C while one host goes back: it finishes, the next is not begun, exit 130") {
  Rollback f;
  f.t.host("web1").on("rollback-to").reply(after_doing([&f](ScriptedExec&) { f.interrupt.raise(); }));
  auto o = f.rollback({}, /*parallel=*/1);

  CHECK(o.exit == ExitStatus::interrupted);
  CHECK(f.steps("web1") == kBackToPrev);
  CHECK(f.steps("web2") == kLooked);
  CHECK(standing(o, "web1").state == HostState::rolled_back);
  CHECK(standing(o, "web2").state == HostState::rollback_not_begun);
}

TEST_CASE("rollback: a status that cannot be read under the lock: rollback_refused, exit 3") {
  Rollback f(2);
  f.t.host("web2").on("status --json").reply(Reply{.out = "Usage: plugbox-server [OPTIONS]\n"});
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::incomplete);
  CHECK(f.steps("web2") == kLooked);
  CHECK(standing(o, "web2").state == HostState::rollback_refused);
  CHECK_THAT(standing(o, "web2").error, Catch::Contains("printed no status JSON"));
  CHECK(standing(o, "web1").state == HostState::rolled_back);
}

TEST_CASE("rollback: the connection dropping during the stop: the host finishes the rollback unanswered, the run cannot confirm it, exit 3") {
  Rollback f(1);
  f.t.host("web1").on("svc-stop").reply(Reply{.end = Reply::End::drop});
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::incomplete);
  // The host goes on with its transaction after the client's connection
  // went (server-tools/switch_txn.h); the client hears nothing more of it.
  CHECK(f.steps("web1") == Lines{"lock", "status --json", "switch", "svc-stop", "rollback-to " + kPrev, "svc-start"});
  const auto& s = standing(o, "web1");
  // Cut off after the stop began, the run must count rollback-to as begun:
  // the host may be back on its previous, and its start was never confirmed.
  CHECK(s.state == HostState::start_failed);
  CHECK(s.live == kPrev);
  CHECK(needs_attention(s.state));
  CHECK_THAT(s.error, Catch::StartsWith("switch: "));
  CHECK_THAT(s.error, Catch::Contains("the connection dropped"));
}

// --- by the hosts' records (docs/DESIGN.md §5: fleet rollback undoes the last run) ---

namespace {

// Every host read and left as it was: the run is undone there already.
void expect_all_already_back(Rollback& f, const RunOutcome& o) {
  CHECK(o.exit == ExitStatus::ok);
  for (std::string n : {"web1", "web2", "web3"}) {
    INFO(n);
    CHECK(f.steps(n) == kLooked);
    CHECK(standing(o, n).state == HostState::already_back);
  }
}

}  // namespace

TEST_CASE("rollback by record: each host the last run switched goes back to what it had before it, others are left alone") {
  Rollback f;
  // The run kV went live on web1 (from kPrev) and web2 (from kOld: another
  // history); web3's last run is an older one.
  f.live["web1"] = HostLive{true, kV, kPrev, recorded_run(kV, kPrev, kV, "switched")};
  f.live["web2"] = HostLive{true, kV, kPrev, recorded_run(kV, kOld, kV, "switched")};
  f.live["web3"] = HostLive{true, kPrev, kOld, recorded_run(kPrev, kOld, kPrev, "switched")};
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::ok);
  CHECK(f.steps("web1") == kBackToPrev);
  CHECK(f.steps("web2") == Lines{"lock", "status --json", "switch", "svc-stop", "rollback-to " + kOld, "svc-start"});
  CHECK(f.steps("web3") == kLooked);
  CHECK(standing(o, "web1").state == HostState::rolled_back);
  CHECK(standing(o, "web2").state == HostState::rolled_back);
  CHECK(standing(o, "web2").live == kOld);
  CHECK(standing(o, "web3").state == HostState::untouched);
}

TEST_CASE("rollback by record: a run cut short: a host left stopped is started again, one already undone is not undone twice") {
  Rollback f;
  // web1: stopped, the switch never happened; web2: the run failed there and
  // its own undo finished; web3: switched.
  nlohmann::json stopped = recorded_run(kV, kPrev, kV, "failed");
  stopped["service_stopped"] = true;
  f.live["web1"] = HostLive{true, kPrev, kOld, stopped};
  f.live["web2"] = HostLive{true, kPrev, kOld, recorded_run(kV, kPrev, kV, "undone")};
  f.live["web3"] = HostLive{true, kV, kPrev, recorded_run(kV, kPrev, kV, "switched")};
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::ok);
  CHECK(f.steps("web1") == Lines{"lock", "status --json", "switch", "svc-start"});
  CHECK(f.count("web1", "rollback-to") == 0);
  CHECK(f.steps("web2") == kLooked);
  CHECK(standing(o, "web2").state == HostState::already_back);
  CHECK(f.steps("web3") == kBackToPrev);
}

TEST_CASE("rollback by record: a run already rolled back: says so, changes nothing, exit 0") {
  Rollback f;
  for (std::string n : {"web1", "web2", "web3"})
    f.live[n] = HostLive{true, kPrev, kOld, recorded_run(kV, kV, kPrev, "switched", "rollback")};
  auto o = f.rollback();

  expect_all_already_back(f, o);
}

TEST_CASE("rollback: a rollback of the run that failed on some hosts is finished there, never taken further") {
  Rollback f;
  auto rec = [](const std::string& state) { return recorded_run(kV, kV, kPrev, state, "rollback"); };
  nlohmann::json stopped = rec("failed");
  stopped["service_stopped"] = true;
  // web1 went back; on web2 the rollback-to was refused (an unwritable log)
  // and the service started again on kV; on web3 it went back but its start
  // failed.
  f.live["web1"] = HostLive{true, kPrev, kOld, rec("switched")};
  f.live["web2"] = HostLive{true, kV, kPrev, rec("failed")};
  f.live["web3"] = HostLive{true, kPrev, kOld, stopped};
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::ok);
  CHECK(f.steps("web1") == kLooked);
  CHECK(standing(o, "web1").state == HostState::already_back);
  CHECK(f.steps("web2") == kBackToPrev);
  CHECK(standing(o, "web2").state == HostState::rolled_back);
  CHECK(standing(o, "web2").live == kPrev);
  CHECK(f.steps("web3") == Lines{"lock", "status --json", "switch", "svc-start"});
  CHECK(standing(o, "web3").state == HostState::rolled_back);
  CHECK(standing(o, "web3").live == kPrev);
  // Recorded as the rollback of the same run, so a further rollback finds it
  // done here.
  REQUIRE(f.txns["web2"].size() == 1);
  CHECK(f.txns["web2"][0].dump().find(kV) != std::string::npos);
}

TEST_CASE("rollback: a failed rollback of the run on a host someone switched since is left alone") {
  Rollback f;
  f.live["web1"] = HostLive{true, kOld, kPrev, recorded_run(kV, kV, kPrev, "failed", "rollback")};
  f.live["web2"] = f.live["web1"];
  f.live["web3"] = f.live["web1"];
  auto o = f.rollback();
  expect_all_already_back(f, o);
}

TEST_CASE("rollback by record: a switch transaction still running on a host: rollback_refused there, exit 3") {
  Rollback f;
  nlohmann::json running = recorded_run(kV, kPrev, kV, "switching");
  running["transaction"] = {{"state", "running"}};
  f.live["web1"] = HostLive{true, kV, kPrev, running};
  f.live["web2"] = HostLive{true, kV, kPrev, recorded_run(kV, kPrev, kV, "switched")};
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::incomplete);
  CHECK(standing(o, "web1").state == HostState::rollback_refused);
  CHECK_THAT(standing(o, "web1").error, Catch::Contains("still running there"));
  CHECK(f.steps("web1") == kLooked);
  CHECK(f.steps("web2") == kBackToPrev);
}

TEST_CASE("rollback by record: a run that was the host's first deploy has nothing to go back to: no_previous, exit 3") {
  Rollback f;
  f.live["web1"] = HostLive{true, kV, "", recorded_run(kV, "", kV, "switched")};
  f.live["web2"] = HostLive{true, kV, kPrev, recorded_run(kV, kPrev, kV, "switched")};
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::incomplete);
  CHECK(standing(o, "web1").state == HostState::no_previous);
  CHECK(f.steps("web1") == kLooked);
  CHECK(f.steps("web2") == kBackToPrev);
}

TEST_CASE("rollback by record: a host without records (an older server) on the run's version goes back as --from would") {
  Rollback f;
  f.live["web1"] = HostLive{true, kV, kPrev, recorded_run(kV, kPrev, kV, "switched")};
  f.live["web2"] = HostLive{true, kV, kPrev};    // no record, live is the run's version
  f.live["web3"] = HostLive{true, kPrev, kOld};  // no record, on something else
  auto o = f.rollback();

  CHECK(o.exit == ExitStatus::ok);
  CHECK(f.steps("web1") == kBackToPrev);
  CHECK(f.steps("web2") == kBackToPrev);
  CHECK(standing(o, "web2").state == HostState::rolled_back);
  CHECK(f.steps("web3") == kLooked);
}
