#include "tests/orchestrator/e2e_scenarios.h"

#include <signal.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "tests/harness/process.h"
#include "tests/harness/sshd_fleet.h"

namespace plugbox::e2e {

int commands_served(const E2eFleet& f, const std::string& host) {
  const std::string log = f.sshd().log(host);
  int n = 0;
  for (auto at = log.find("Starting session: command"); at != std::string::npos;
       at = log.find("Starting session: command", at + 1))
    ++n;
  return n;
}

namespace {

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

bool has_selection(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--host" || a == "--group" || a == "-g") return true;
  return false;
}

// The version of the newest deploy run, "" if none.
std::string newest_deploy_version(const E2eFleet& f) {
  fs::path j = f.newest_journal("deploy");
  return j.empty() ? "" : j.parent_path().filename().string();
}

std::vector<std::string> text_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string tail_lines(const std::string& text, std::size_t n) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string out;
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) out += lines[i] + "\n";
  return out;
}

void require_all_live(const E2eFleet& f, const std::map<std::string, std::string>& expected) {
  for (const auto& [name, v] : expected) {
    INFO("host " << name);
    CHECK(f.home_of(name).live == v);
  }
}

// Every host's deploy lock is free (its holder line is cleared on release).
void check_locks_free(const E2eFleet& f) {
  for (const auto& h : f.hosts()) {
    INFO("host " << h.name);
    CHECK(lock_file_text(h.home).empty());
  }
}

// `fleet status --json` (parsed), REQUIRE-ing that it printed an array.
nlohmann::json status_json(const E2eFleet& f) {
  auto r = f.plugbox({"fleet", "status", "--group", "app", "--json"});
  INFO(r.describe());
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE(j.is_array());
  return j;
}

const nlohmann::json& row_of(const nlohmann::json& rows, const std::string& host) {
  for (const auto& r : rows)
    if (r.value("host", "") == host) return r;
  FAIL("no status row for " << host << " in " << rows.dump());
  throw std::logic_error("unreachable");
}

// Waits until the newest deploy journal newer than `after` shows `host`'s
// start command; returns that journal's path.
fs::path wait_for_start_step(const E2eFleet& f, const std::string& after, const std::string& host) {
  fs::path found;
  bool seen = eventually(
      [&] {
        fs::path j = f.newest_journal("deploy");
        if (j.empty() || j.parent_path().filename().string() <= after) return false;
        for (const auto& line : lines_of(j)) {
          auto e = nlohmann::json::parse(line);
          if (e.value("host", "") == host && e.value("step", "") == "start" && e.contains("command")) {
            found = j;
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(60));
  REQUIRE(seen);
  return found;
}

std::string owner_of_run(const fs::path& journal) {
  for (const auto& line : lines_of(journal)) {
    auto e = nlohmann::json::parse(line);
    if (e.value("event", "") == "start") return e.value("owner", "");
  }
  return "";
}

}  // namespace

const nlohmann::json& Deployed::host(const std::string& name) const {
  if (result.is_object() && result.contains("hosts"))
    for (const auto& h : result["hosts"])
      if (h.value("host", "") == name) return h;
  throw std::out_of_range("the result names no host " + name + ": " + result.dump());
}

Deployed deploy(E2eFleet& f, const std::vector<std::string>& extra) {
  if (auto last = newest_deploy_version(f); !last.empty()) wait_past(last);
  std::vector<std::string> args{"fleet", "deploy", "--json"};
  if (!has_selection(extra)) args.insert(args.end(), {"--group", "app"});
  args.insert(args.end(), extra.begin(), extra.end());
  Deployed d;
  d.run = f.plugbox(args);
  d.events = json_lines(d.run.out);
  for (const auto& e : d.events) {
    if (e.value("event", "") == "plan" && e.contains("version")) d.version = e["version"].get<std::string>();
    if (e.value("event", "") == "result") d.result = e;
  }
  return d;
}

std::string deploy_release(E2eFleet& f, const Release& r, const std::vector<std::string>& extra) {
  f.write_release(r);
  Deployed d = deploy(f, extra);
  INFO(d.run.describe());
  REQUIRE(d.run.rc == 0);
  REQUIRE(!d.version.empty());
  return d.version;
}

void scenario_two_deploys(E2eFleet& f) {
  const auto names = f.names();
  Deployed d1 = deploy(f);
  INFO("first deploy: " << d1.run.describe());
  REQUIRE(d1.run.rc == 0);
  const std::string v1 = d1.version;
  REQUIRE(d1.result.value("exit", -1) == 0);
  for (const auto& n : names) {
    INFO("host " << n);
    HomeOnDisk h = f.home_of(n);
    CHECK(h.live == v1);
    CHECK(h.names() == std::vector<std::string>{v1});
    CHECK(h.versions[v1].state == "ready");
    CHECK(h.versions[v1].previous.empty());
    CHECK(h.problems.empty());
    // The upload is the prepared tree: prepare ran with PLUGBOX_VERSION.
    CHECK(slurp(f.host(n).home / "deploy" / v1 / "VERSION") == v1 + "\n");
    CHECK(fs::is_symlink(f.host(n).home / "live"));
    // A first deploy has nothing to stop.
    CHECK(f.service_log(n) == "start " + v1 + " " + v1 + "\n");
    CHECK(d1.host(n).value("state", "") == "deployed");
  }

  std::map<std::string, int> conns_before;
  if (f.is_ssh())
    for (const auto& h : f.sshd().hosts()) conns_before[h.name] = f.sshd().accepted_connections(h.name);

  Release r2;
  r2.tag = "r2";
  r2.with_dropped = false;
  f.write_release(r2);
  Deployed d2 = deploy(f);
  INFO("second deploy: " << d2.run.describe());
  REQUIRE(d2.run.rc == 0);
  const std::string v2 = d2.version;
  REQUIRE(v2 > v1);
  for (const auto& n : names) {
    INFO("host " << n);
    HomeOnDisk h = f.home_of(n);
    const fs::path d = f.host(n).home / "deploy";
    CHECK(h.live == v2);
    CHECK(h.names() == std::vector<std::string>{v1, v2});
    CHECK(h.versions[v2].state == "ready");
    CHECK(h.versions[v2].previous == v1);
    CHECK(h.versions[v1].next == v2);
    CHECK(h.versions[v2].next.empty());
    CHECK(h.versions[v1].previous.empty());
    CHECK(h.problems.empty());
    // Unchanged files are hard links of the previous version's, not copies.
    for (const char* same : {"same.txt", "bin/start", "bin/health"}) {
      INFO(same);
      CHECK(inode_of(d / v1 / same) != 0);
      CHECK(inode_of(d / v1 / same) == inode_of(d / v2 / same));
    }
    CHECK(inode_of(d / v1 / "changing.txt") != inode_of(d / v2 / "changing.txt"));
    CHECK(slurp(d / v2 / "changing.txt") == "release r2\n");
    CHECK(slurp(d / v1 / "changing.txt") == "release r1\n");
    // The upload mirrors the prepared tree: what it no longer has is not there.
    CHECK(fs::exists(d / v1 / "dropped.txt"));
    CHECK_FALSE(fs::exists(d / v2 / "dropped.txt"));
    CHECK(slurp(d / v2 / "VERSION") == v2 + "\n");
    // The old version was stopped, the new one started (each with the env of the release going live).
    CHECK(f.service_log(n) == "start " + v1 + " " + v1 + "\nstop " + v1 + " " + v2 + "\nstart " + v2 + " " + v2 + "\n");
    CHECK(d2.host(n).value("live", "") == v2);
    CHECK(d2.host(n).value("live_before", "") == v1);
  }
  // Only the changed contents travelled: per host, the new changing.txt and VERSION.
  int staged_events = 0;
  for (const auto& e : d2.events)
    if (e.value("event", "") == "stage" && e.value("level", "") == "ok" && e.contains("files_linked")) {
      ++staged_events;
      INFO(e.dump());
      CHECK(e["files_sent"].get<int>() == 2);
      CHECK(e["files_linked"].get<int>() == 6);  // bin/{start,stop,health,refresh,post_upload}, same.txt
    }
  CHECK(staged_events == int(names.size()));
  check_locks_free(f);

  if (f.is_ssh()) {
    // One connection per host for the whole deploy, and one to each jump
    // host, carrying the tunnels of every host behind it.
    for (const auto& h : f.sshd().hosts()) {
      INFO("sshd host " << h.name);
      CHECK(f.sshd().accepted_connections(h.name) - conns_before[h.name] == 1);
    }
  }
}

void scenario_later_batch_health_failure(E2eFleet& f) {
  const auto n = f.names();
  REQUIRE(n.size() == 4);
  // Different histories: v1 everywhere, then v2 on the 2nd and 4th host only.
  const std::string v1 = deploy_release(f, {"r1"});
  const std::string v2 = deploy_release(f, {"r2"}, {"--host", n[1] + "," + n[3]});
  std::map<std::string, std::string> before{{n[0], v1}, {n[1], v2}, {n[2], v1}, {n[3], v2}};
  require_all_live(f, before);
  std::map<std::string, std::string> log_before;
  for (const auto& h : n) log_before[h] = f.service_log(h);

  // Batches [1, 1, "100%"]: n0 | n1 | n2 n3; n3's health check fails.
  f.mark(n[3], "FAIL_HEALTH");
  f.write_release({"r3"});
  Deployed d = deploy(f);
  INFO(d.run.describe());
  CHECK(d.run.rc == 1);
  CHECK(d.result.value("exit", -1) == 1);
  const std::string v3 = d.version;
  REQUIRE(!v3.empty());
  // Batches 1 and 2 were switched and healthy before batch 3 began.
  std::vector<std::string> switch_order;
  for (const auto& e : d.events)
    if (e.value("event", "") == "switch" && !e["host"].is_null()) switch_order.push_back(e["host"].get<std::string>());
  REQUIRE(switch_order.size() == 4);
  CHECK(switch_order[0] == n[0]);
  CHECK(switch_order[1] == n[1]);

  for (const auto& h : n) {
    INFO("host " << h);
    HomeOnDisk home = f.home_of(h);
    // Back on its own previous version, whichever that was.
    CHECK(home.live == before[h]);
    // v3 went live on it, with ITS previous recorded, then it was switched back.
    REQUIRE(home.versions.count(v3));
    CHECK(home.versions[v3].previous == before[h]);
    CHECK(home.versions[v3].state == "ready");
    CHECK(home.problems.empty());
    CHECK(f.service_log(h) == log_before[h] + "stop " + before[h] + " " + v3 + "\nstart " + v3 + " " + v3 +
                                  "\nstop " + v3 + " " + before[h] + "\nstart " + before[h] + " " + before[h] + "\n");
    CHECK(d.host(h).value("state", "") == "rolled back");
    CHECK(d.host(h).value("live", "") == before[h]);
    CHECK_FALSE(d.host(h).value("needs_attention", true));
  }
  CHECK(d.host(n[3]).value("error", "").find("health check failed") != std::string::npos);
  CHECK(d.result.value("summary", "").find("fleet rolled back") != std::string::npos);
  check_locks_free(f);
  // The run's journal has every step, with the failing host's health output.
  fs::path journal = f.runs_dir() / v3 / "deploy.jsonl";
  bool health_failure_journaled = false;
  for (const auto& line : lines_of(journal)) {
    auto e = nlohmann::json::parse(line);
    if (e.value("host", "") == n[3] && e.value("step", "") == "health" && e.value("exit", 0) == 1)
      health_failure_journaled = true;
  }
  CHECK(health_failure_journaled);
}

void scenario_staging_failure(E2eFleet& f) {
  const auto n = f.names();
  const std::string v1 = deploy_release(f, {"r1"});
  std::map<std::string, std::string> log_before;
  for (const auto& h : n) log_before[h] = f.service_log(h);
  f.mark(n[2], "FAIL_POST_UPLOAD");
  f.write_release({"r2"});
  Deployed d = deploy(f);
  INFO(d.run.describe());
  CHECK(d.run.rc == 1);
  const std::string v2 = d.version;
  REQUIRE(!v2.empty());
  for (const auto& h : n) {
    INFO("host " << h);
    HomeOnDisk home = f.home_of(h);
    CHECK(home.live == v1);
    CHECK(home.names() == std::vector<std::string>{v1});  // v2 is gone everywhere
    CHECK_FALSE(fs::exists(f.host(h).home / "deploy/.plugbox/versions" / (v2 + ".json")));
    CHECK(home.versions[v1].next.empty());
    CHECK(f.service_log(h) == log_before[h]);  // nothing was stopped or started
    CHECK(d.host(h).value("live", "") == v1);
  }
  CHECK(d.host(n[2]).value("error", "").find("post_upload") != std::string::npos);
  CHECK(d.result.value("summary", "").find("nothing switched") != std::string::npos);
  check_locks_free(f);
}

void scenario_concurrent_deploy_refused(E2eFleet& f) {
  const auto n = f.names();
  const std::string v1 = deploy_release(f, {"r1"});
  std::map<std::string, std::string> log_before;
  for (const auto& h : n) log_before[h] = f.service_log(h);
  {
    LockHolder alice(f.server_bin(), f.host(n[1]).home, "alice-hotfix-7");
    f.write_release({"r2"});
    Deployed d = deploy(f);
    INFO(d.run.describe());
    CHECK(d.run.rc == 1);
    const std::string v2 = d.version;
    REQUIRE(!v2.empty());
    // The refusal names the holder.
    CHECK(d.host(n[1]).value("error", "").find("alice-hotfix-7") != std::string::npos);
    for (const auto& h : n) {
      INFO("host " << h);
      HomeOnDisk home = f.home_of(h);
      CHECK(home.live == v1);
      CHECK(home.names() == std::vector<std::string>{v1});
      CHECK(f.service_log(h) == log_before[h]);
    }
    // The holder still holds its lock; nobody else's is left behind.
    CHECK(alice.alive());
    CHECK(lock_file_text(f.host(n[1]).home).find("alice-hotfix-7") != std::string::npos);
    for (const auto& h : n)
      if (h != n[1]) CHECK(lock_file_text(f.host(h).home).empty());
  }
  // Once it lets go, a deploy goes through.
  const std::string v3 = deploy_release(f, {"r3"});
  require_all_live(f, {{n[0], v3}, {n[1], v3}, {n[2], v3}, {n[3], v3}});
}

void scenario_maintenance_lock(E2eFleet& f) {
  const auto n = f.names();
  deploy_release(f, {"r1"});
  const std::string v2 = deploy_release(f, {"r2"});
  const std::string v3 = deploy_release(f, {"r3"});
  const std::vector<std::string> versions = f.home_of(n[0]).names();
  REQUIRE(versions.size() == 3);
  const std::string message = "db migration until 18:00";
  auto hold_file = [&](const std::string& h) { return f.host(h).home / "deploy/.plugbox/hold"; };

  // Bad input: one line, exit 2, nothing touched (not even a journal).
  const Snapshot before_bad = f.snapshot_all();
  for (const auto& [args, says] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"fleet", "lock", "--message", message}, "fleet lock needs the hosts: --group G or --host H"},
           {{"fleet", "lock", "--group", "app", "--message", " "}, "the lock message is empty"},
           {{"fleet", "lock", "--group", "app"}, "--message is required"},
           {{"fleet", "unlock"}, "fleet unlock needs the hosts"}}) {
    auto r = f.plugbox(args);
    INFO(r.describe());
    CHECK(r.rc == 2);
    CHECK(r.err.find(says) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK(snapshot_diff(before_bad, f.snapshot_all()) == "");

  auto lk = f.plugbox({"fleet", "lock", "--host", n[1] + "," + n[2], "--message", message, "--json"});
  INFO(lk.describe());
  REQUIRE(lk.rc == 0);
  auto rows = nlohmann::json::parse(lk.out);
  REQUIRE(rows.size() == 2);
  for (const auto& r : rows) CHECK(r["action"] == "locked");
  CHECK_FALSE(fs::exists(hold_file(n[0])));
  REQUIRE(fs::exists(hold_file(n[1])));
  const auto hold = nlohmann::json::parse(slurp(hold_file(n[1])));
  const std::string owner = hold["owner"];
  CHECK(owner.find('@') != std::string::npos);  // user@machine
  CHECK(hold["message"] == message);
  const std::string says = "locked for maintenance by " + owner + " for ";
  const std::string why = ": '" + message + "'";

  // fleet status shows it, in the table and as JSON.
  auto st = f.plugbox({"fleet", "status", "--group", "app"});
  INFO(st.describe());
  CHECK(st.rc == 0);
  CHECK(st.out.find("maintenance: " + owner + " for ") != std::string::npos);
  auto stj = nlohmann::json::parse(f.plugbox({"fleet", "status", "--group", "app", "--json"}).out);
  for (const auto& r : stj) {
    INFO(r.dump());
    if (r["host"] == n[1] || r["host"] == n[2]) {
      CHECK(r["hold"]["owner"] == owner);
      CHECK(r["hold"]["message"] == message);
    } else {
      CHECK(r["hold"].is_null());
    }
  }

  std::map<std::string, std::string> log_before;
  for (const auto& h : n) log_before[h] = f.service_log(h);
  auto unchanged = [&] {
    for (const auto& h : n) {
      INFO("host " << h);
      HomeOnDisk home = f.home_of(h);
      CHECK(home.live == v3);
      CHECK(home.names() == versions);
      CHECK(f.service_log(h) == log_before[h]);
      CHECK(lock_file_text(f.host(h).home).empty());
    }
  };

  // A deploy: refused before any host is sent anything, one line per locked host.
  f.write_release({"r4"});
  Deployed d = deploy(f);
  INFO(d.run.describe());
  CHECK(d.run.rc == 1);
  for (const auto& h : {n[1], n[2]}) {
    const std::string err = d.host(h).value("error", "");
    CHECK(err.find(says) != std::string::npos);
    CHECK(err.find(why + "; `plugbox fleet unlock` ends it") != std::string::npos);
  }
  CHECK(d.host(n[0]).value("error", "").empty());
  unchanged();

  // A rollback and a gc change nothing either, and say why.
  auto rb = f.plugbox({"fleet", "rollback", "--group", "app"});
  INFO(rb.describe());
  CHECK(rb.rc == 3);
  CHECK(rb.out.find("nothing rolled back: 2 selected host(s) locked for maintenance") != std::string::npos);
  CHECK(rb.out.find(says) != std::string::npos);
  unchanged();
  auto gc = f.plugbox({"fleet", "gc", "--group", "app", "--keep", "2"});
  INFO(gc.describe());
  CHECK(gc.rc == 1);
  CHECK(gc.out.find("nothing collected: 2 selected host(s) locked for maintenance") != std::string::npos);
  CHECK(gc.out.find(says) != std::string::npos);
  unchanged();

  // Another operator cannot end it without --force; its owner can.
  RunOptions bob = f.options();
  bob.env["USER"] = "bob-other";
  auto ub = f.plugbox({"fleet", "unlock", "--host", n[1]}, bob);
  INFO(ub.describe());
  CHECK(ub.rc == 1);
  CHECK(ub.out.find("failed") != std::string::npos);
  CHECK(ub.out.find("only its holder unlocks it") != std::string::npos);
  CHECK(fs::exists(hold_file(n[1])));
  auto u = f.plugbox({"fleet", "unlock", "--host", n[1]});
  INFO(u.describe());
  CHECK(u.rc == 0);
  CHECK(u.out.find("unlocked") != std::string::npos);
  CHECK_FALSE(fs::exists(hold_file(n[1])));
  auto uf = f.plugbox({"fleet", "unlock", "--host", n[2], "--force", "--json"}, bob);
  INFO(uf.describe());
  CHECK(uf.rc == 0);
  CHECK(nlohmann::json::parse(uf.out)[0]["action"] == "unlocked");
  CHECK_FALSE(fs::exists(hold_file(n[2])));
  auto again = f.plugbox({"fleet", "unlock", "--group", "app"});
  CHECK(again.rc == 0);
  CHECK(again.out.find("not locked") != std::string::npos);

  // Free again: a deploy goes through.
  const std::string v5 = deploy_release(f, {"r5"});
  std::map<std::string, std::string> all;
  for (const auto& h : n) all[h] = v5;
  require_all_live(f, all);
  (void)v2;
}

void scenario_gc(E2eFleet& f) {
  const auto n = f.names();
  const std::string v1 = deploy_release(f, {"r1"});
  const std::string v2 = deploy_release(f, {"r2"});
  const std::string v3 = deploy_release(f, {"r3"});
  // n1 goes back to v2: its live's previous (v1) must survive gc.
  auto rb = f.plugbox({"fleet", "rollback", "--host", n[1]});
  INFO(rb.describe());
  REQUIRE(rb.rc == 0);
  REQUIRE(f.home_of(n[1]).live == v2);

  Snapshot before = f.snapshot_all();
  auto dry = f.plugbox({"fleet", "gc", "--group", "app", "--keep", "2", "--dry-run"});
  INFO(dry.describe());
  CHECK(dry.rc == 0);
  CHECK(dry.out.find("would remove " + v1) != std::string::npos);
  CHECK(snapshot_diff(before, f.snapshot_all()) == "");

  auto gc = f.plugbox({"fleet", "gc", "--group", "app", "--keep", "2", "--json"});
  INFO(gc.describe());
  CHECK(gc.rc == 0);
  nlohmann::json result;
  for (const auto& e : json_lines(gc.out))
    if (e.value("event", "") == "result") result = e;
  REQUIRE(result.is_object());
  for (const auto& h : result["hosts"]) {
    INFO(h.dump());
    CHECK(h["state"] == "collected");
    CHECK(h["live"] == (h["host"] == n[1] ? v2 : v3));
  }
  for (const auto& h : n) {
    INFO("host " << h);
    HomeOnDisk home = f.home_of(h);
    CHECK(home.problems.empty());
    if (h == n[1]) {
      // live v2, its previous v1, and the two newest (v3, v2): nothing goes.
      CHECK(home.names() == std::vector<std::string>{v1, v2, v3});
      CHECK(home.live == v2);
    } else {
      CHECK(home.names() == std::vector<std::string>{v2, v3});
      CHECK(home.live == v3);
      CHECK(home.versions[v3].previous == v2);
      CHECK(home.versions[v2].previous.empty());  // spliced: v1 is gone
      CHECK_FALSE(fs::exists(f.host(h).home / "deploy/.plugbox/versions" / (v1 + ".json")));
    }
  }
  CHECK_FALSE(f.newest_journal("gc").empty());
  check_locks_free(f);
}

void scenario_status(E2eFleet& f) {
  const auto n = f.names();
  const std::string v1 = deploy_release(f, {"r1"});
  const std::string v2 = deploy_release(f, {"r2"}, {"--host", n[0]});
  LockHolder bob(f.server_bin(), f.host(n[2]).home, "bob-maintenance-1");
  Snapshot before = f.snapshot_all();

  auto table = f.plugbox({"fleet", "status", "--group", "app"});
  INFO(table.describe());
  CHECK(table.rc == 0);
  std::vector<std::string> lines;
  {
    std::istringstream in(table.out);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  REQUIRE(lines.size() == n.size() + 1);
  CHECK(lines[0].find("HOST") == 0);
  for (const char* col : {"LIVE", "PREVIOUS", "VERSIONS", "LOCK", "REACHABLE"})
    CHECK(lines[0].find(col) != std::string::npos);
  auto words = [](const std::string& l) {
    std::vector<std::string> w;
    std::istringstream in(l);
    for (std::string x; in >> x;) w.push_back(x);
    return w;
  };
  CHECK(words(lines[1]) == std::vector<std::string>{n[0], v2, v1, "2", "-", "yes"});
  CHECK(words(lines[2]) == std::vector<std::string>{n[1], v1, "-", "1", "-", "yes"});
  CHECK(words(lines[3]) == std::vector<std::string>{n[2], v1, "-", "1", "bob-maintenance-1", "yes"});
  CHECK(words(lines[4]) == std::vector<std::string>{n[3], v1, "-", "1", "-", "yes"});

  nlohmann::json rows = status_json(f);
  REQUIRE(rows.size() == n.size());
  for (std::size_t i = 0; i < n.size(); ++i) CHECK(rows[i]["host"] == n[i]);
  CHECK(row_of(rows, n[0])["live"] == v2);
  CHECK(row_of(rows, n[0])["previous"] == v1);
  CHECK(row_of(rows, n[0])["versions"].size() == 2);
  CHECK(row_of(rows, n[1])["live"] == v1);
  CHECK(row_of(rows, n[1])["previous"].is_null());
  CHECK(row_of(rows, n[2])["lock"] == "bob-maintenance-1");
  for (const auto& r : rows) {
    CHECK(r["reachable"] == true);
    CHECK(r["error"].is_null());
    CHECK(r["status"]["schema"] == 1);
  }
  CHECK(row_of(rows, n[1])["lock"].is_null());
  // Looking changes nothing (and takes no lock: bob still has his).
  CHECK(snapshot_diff(before, f.snapshot_all()) == "");
  CHECK(bob.alive());
}

void scenario_dry_run_changes_nothing(E2eFleet& f) {
  const std::string v1 = deploy_release(f, {"r1"});
  const std::string v2 = deploy_release(f, {"r2"});
  f.write_release({"r3"});
  Snapshot before = f.snapshot_all();

  auto d = f.plugbox({"fleet", "deploy", "--group", "app", "--dry-run"});
  INFO(d.describe());
  CHECK(d.rc == 0);
  CHECK(d.out.find("dry run: nothing was prepared, sent or changed") != std::string::npos);
  for (const auto& h : f.hosts()) {
    INFO("host " << h.name);
    // Every host's own commands, with its home and its jump chain.
    CHECK(d.out.find(f.server_bin() + " --home " + h.home.string()) != std::string::npos);
    if (!h.via.empty()) CHECK(d.out.find("  " + h.name + " via " + h.via.front()) != std::string::npos);
  }
  CHECK(d.out.find("upgrade-to") != std::string::npos);

  auto own = f.plugbox({"deploy", "--dry-run"});
  INFO(own.describe());
  CHECK(own.rc == 0);
  CHECK(own.out.find("dry run: nothing was prepared") != std::string::npos);

  auto rb = f.plugbox({"fleet", "rollback", "--group", "app", "--dry-run"});
  INFO(rb.describe());
  CHECK(rb.rc == 0);
  for (const auto& h : f.hosts()) CHECK(rb.out.find(h.name + ": would run:") != std::string::npos);
  CHECK(rb.out.find("rollback-to " + v1) != std::string::npos);

  auto gc = f.plugbox({"fleet", "gc", "--group", "app", "--keep", "2", "--dry-run"});
  INFO(gc.describe());
  CHECK(gc.rc == 0);

  CHECK(snapshot_diff(before, f.snapshot_all()) == "");
  for (const auto& h : f.hosts()) CHECK(f.home_of(h.name).live == v2);
}

void scenario_kill9_mid_switch(E2eFleet& f) {
  const auto n = f.names();
  const std::string v1 = deploy_release(f, {"r1"});
  Release slow{"r2"};
  slow.slow_start = true;
  f.write_release(slow);
  wait_past(v1);
  Background first = f.spawn_plugbox({"fleet", "deploy", "--group", "app"});
  // The canary (n0) has been switched and is starting (its start waits).
  fs::path journal = wait_for_start_step(f, v1, n[0]);
  const std::string v2 = journal.parent_path().filename().string();
  const std::string owner = owner_of_run(journal);
  REQUIRE(!owner.empty());
  REQUIRE(f.home_of(n[0]).live == v2);

  // Meanwhile a second deploy is refused on every host, naming the first's lock.
  Deployed second = deploy(f);
  INFO(second.run.describe());
  CHECK(second.run.rc == 1);
  for (const auto& h : n) CHECK(second.host(h).value("error", "").find(owner) != std::string::npos);
  REQUIRE(first.running());

  first.signal(SIGKILL);
  RunResult killed = first.wait();
  INFO("the killed deploy: " << killed.describe());
  CHECK(killed.rc == 128 + SIGKILL);
  // Where that left the fleet: the canary on v2, the rest on v1 with v2 staged.
  for (const auto& h : n) {
    INFO("host " << h);
    HomeOnDisk home = f.home_of(h);
    CHECK(home.live == (h == n[0] ? v2 : v1));
    CHECK(home.versions[v2].state == "ready");
  }
  // The killed run's journal tells how far it got: no end.
  bool ended = false;
  for (const auto& line : lines_of(journal)) ended |= nlohmann::json::parse(line).value("event", "") == "end";
  CHECK_FALSE(ended);
  // Its locks go with its sessions.
  CHECK(eventually([&] {
    for (const auto& h : f.hosts())
      if (!lock_file_text(h.home).empty()) return false;
    return true;
  }));
  f.mark(n[0], "RELEASE_START");  // the orphaned start may finish now

  auto rb = f.plugbox({"fleet", "rollback", "--group", "app", "--json"});
  INFO(rb.describe());
  CHECK(rb.rc == 0);
  for (const auto& h : n) {
    INFO("host " << h);
    CHECK(f.home_of(h).live == v1);
  }
  CHECK(tail_lines(f.service_log(n[0]), 2) == "stop " + v2 + " " + v1 + "\nstart " + v1 + " " + v1 + "\n");
  for (std::size_t i = 1; i < n.size(); ++i) CHECK(f.service_log(n[i]) == "start " + v1 + " " + v1 + "\n");
  nlohmann::json rows = status_json(f);
  for (const auto& r : rows) {
    CHECK(r["live"] == v1);
    CHECK(r["lock"].is_null());
  }
}

void scenario_rollback_incomplete(E2eFleet& f) {
  const auto n = f.names();
  const std::string v1 = deploy_release(f, {"r1"});
  // n1 cannot start anything: neither v2 nor, on the way back, v1.
  f.mark(n[1], "FAIL_START");
  f.write_release({"r2"});
  Deployed d = deploy(f);
  INFO(d.run.describe());
  CHECK(d.run.rc == 3);
  CHECK(d.result.value("exit", -1) == 3);
  CHECK(d.host(n[1]).value("state", "") == "ROLLBACK FAILED");
  CHECK(d.host(n[1]).value("needs_attention", false));
  CHECK(d.host(n[1]).value("error", "").find("start") != std::string::npos);
  CHECK(d.host(n[0]).value("state", "") == "rolled back");
  CHECK(d.result.value("summary", "").find("ROLLBACK INCOMPLETE") != std::string::npos);
  // n1 was switched back (only its start failed); n2, n3 were never switched.
  require_all_live(f, {{n[0], v1}, {n[1], v1}, {n[2], v1}, {n[3], v1}});
  CHECK(f.service_log(n[2]) == "start " + v1 + " " + v1 + "\n");
  check_locks_free(f);
}

void scenario_interrupted(E2eFleet& f) {
  const auto n = f.names();
  const std::string v1 = deploy_release(f, {"r1"});
  Release slow{"r2"};
  slow.slow_start = true;
  f.write_release(slow);
  wait_past(v1);
  Background run = f.spawn_plugbox({"fleet", "deploy", "--group", "app"});
  fs::path journal = wait_for_start_step(f, v1, n[0]);
  const std::string v2 = journal.parent_path().filename().string();
  run.signal(SIGINT);
  // The start under way is finished, not abandoned; then the canary goes back.
  CHECK(eventually([&] { return run.err_so_far().find("interrupted") != std::string::npos; }));
  f.mark(n[0], "RELEASE_START");
  RunResult r = run.wait();
  INFO(r.describe());
  CHECK(r.rc == 130);
  require_all_live(f, {{n[0], v1}, {n[1], v1}, {n[2], v1}, {n[3], v1}});
  CHECK(tail_lines(f.service_log(n[0]), 2) == "stop " + v2 + " " + v1 + "\nstart " + v1 + " " + v1 + "\n");
  for (std::size_t i = 1; i < n.size(); ++i) CHECK(f.service_log(n[i]) == "start " + v1 + " " + v1 + "\n");
  check_locks_free(f);
}

void scenario_interrupted_while_staging(E2eFleet& f) {
  const auto n = f.names();
  const std::string v1 = deploy_release(f, {"r1"});
  std::map<std::string, std::string> log_before;
  for (const auto& h : n) log_before[h] = f.service_log(h);
  f.mark(n[2], "SLOW_POST_UPLOAD");
  f.write_release({"r2"});
  wait_past(v1);
  Background run = f.spawn_plugbox({"fleet", "deploy", "--group", "app"});
  bool in_post_upload = eventually(
      [&] {
        fs::path j = f.newest_journal("deploy");
        if (j.empty() || j.parent_path().filename().string() <= v1) return false;
        for (const auto& line : lines_of(j)) {
          auto e = nlohmann::json::parse(line);
          if (e.value("host", "") == n[2] && e.value("step", "") == "post_upload" && e.contains("command")) return true;
        }
        return false;
      },
      std::chrono::seconds(60));
  REQUIRE(in_post_upload);
  run.signal(SIGINT);
  CHECK(eventually([&] { return run.err_so_far().find("interrupted") != std::string::npos; }));
  f.mark(n[2], "RELEASE_POST_UPLOAD");
  RunResult r = run.wait();
  INFO(r.describe());
  CHECK(r.rc == 130);
  CHECK(r.out.find("interrupted while staging") != std::string::npos);
  for (const auto& h : n) {
    INFO("host " << h);
    HomeOnDisk home = f.home_of(h);
    CHECK(home.live == v1);
    CHECK(home.names() == std::vector<std::string>{v1});  // v2 removed everywhere
    CHECK(f.service_log(h) == log_before[h]);
  }
  check_locks_free(f);
}

void scenario_tolerated_failure(E2eFleet& f) {
  const auto n = f.names();
  const std::string v1 = deploy_release(f, {"r1"});
  f.mark(n[1], "FAIL_HEALTH");
  f.write_release({"r2"});
  // From the command line: batches n0 n1 | n2 n3, one failure tolerated per batch.
  Deployed d = deploy(f, {"--group", "app", "--batches", "2,100%", "--max-fail", "1"});
  INFO(d.run.describe());
  CHECK(d.run.rc == 0);
  const std::string v2 = d.version;
  REQUIRE(!v2.empty());
  // The failed host went back on its own; the batch after it still went ahead.
  require_all_live(f, {{n[0], v2}, {n[1], v1}, {n[2], v2}, {n[3], v2}});
  CHECK(d.host(n[1]).value("state", "") == "rolled back");
  CHECK(d.host(n[1]).value("error", "").find("health check failed") != std::string::npos);
  for (const auto& h : {n[0], n[2], n[3]}) CHECK(d.host(h).value("state", "") == "deployed");
  CHECK(d.result.value("summary", "").find("1 failed within max_fail") != std::string::npos);
  CHECK(tail_lines(f.service_log(n[1]), 2) == "stop " + v2 + " " + v1 + "\nstart " + v1 + " " + v1 + "\n");
  check_locks_free(f);
}

void scenario_hung_health_check(E2eFleet& f) {
  const auto n = f.names();
  f.write_service("group = \"app\"\n"
                  "batches = [\"100%\"]\n"
                  "max_fail = 0\n"
                  "health_retries = 1\n"
                  "health_timeout = 1\n"
                  "command_timeout = 90\n");
  const std::string v1 = deploy_release(f, {"r1"});
  f.mark(n[0], "HANG_HEALTH");
  f.write_release({"r2"});
  Deployed d = deploy(f);
  INFO(d.run.describe());
  CHECK(d.run.rc == 1);
  CHECK(d.host(n[0]).value("state", "") == "rolled back");
  // Said by the host, which timed the check (plugbox-server run): sshd also
  // delivers our own TERM/KILL to the group when we time it out, but an
  // older sshd does not, and nobody does once our connection is gone.
  CHECK_THAT(d.host(n[0]).value("error", ""),
             Catch::Contains("plugbox-server run: timed out after 1 s (its process group was killed)"));
  require_all_live(f, {{n[0], v1}, {n[1], v1}, {n[2], v1}, {n[3], v1}});
  // The check and the child it left were killed on the host when its time
  // ran out: nothing of the check outlives the deploy.
  const fs::path home = f.host(n[0]).home;
  auto pid_in = [&](const char* file) {
    std::string text = slurp(home / file);
    return text.substr(0, text.find('\n'));
  };
  const std::string check = pid_in("health.pid");
  const std::string child = pid_in("health-child.pid");
  REQUIRE(!check.empty());
  REQUIRE(!child.empty());
  CHECK(plugbox::testing::process_ended(std::stol(check)));
  CHECK(plugbox::testing::process_ended(std::stol(child)));
  check_locks_free(f);
}

void scenario_refresh(E2eFleet& f) {
  const auto n = f.names();
  f.write_service("", "refresh = [\"sh live/bin/refresh\"]\n");
  const std::string v1 = deploy_release(f, {"r1"});
  const std::string v2 = deploy_release(f, {"r2"});
  // With refresh commands a deploy neither stops nor starts, except on a
  // host's first deploy, where nothing runs yet to be refreshed...
  for (const auto& h : n)
    CHECK(f.service_log(h) == "start " + v1 + " " + v1 + "\nrefresh " + v2 + " " + v2 + "\n");
  // ...but putting a host back never refreshes: the old code starts afresh.
  f.mark(n[0], "FAIL_HEALTH");
  f.write_release({"r3"});
  Deployed d = deploy(f);
  INFO(d.run.describe());
  CHECK(d.run.rc == 1);
  const std::string v3 = d.version;
  CHECK(tail_lines(f.service_log(n[0]), 3) ==
        "refresh " + v3 + " " + v3 + "\nstop " + v3 + " " + v2 + "\nstart " + v2 + " " + v2 + "\n");
  f.unmark(n[0], "FAIL_HEALTH");
  // The failed run is undone already: a plain rollback says so and changes nothing...
  auto noop = f.plugbox({"fleet", "rollback", "--group", "app"});
  INFO(noop.describe());
  CHECK(noop.rc == 0);
  CHECK(noop.out.find("was already rolled back") != std::string::npos);
  for (const auto& h : n) CHECK(f.home_of(h).live == v2);
  // ...and --from v2 puts every host back on v1, with stop and start.
  auto rb = f.plugbox({"fleet", "rollback", "--group", "app", "--from", v2});
  INFO(rb.describe());
  CHECK(rb.rc == 0);
  for (const auto& h : n) {
    INFO("host " << h);
    CHECK(f.home_of(h).live == v1);
    CHECK(tail_lines(f.service_log(h), 2) == "stop " + v2 + " " + v1 + "\nstart " + v1 + " " + v1 + "\n");
  }
}

void scenario_host_lost_mid_switch(E2eFleet& f) {
  const auto n = f.names();
  const std::string v1 = deploy_release(f, {"r1"});
  f.mark(n[1], "SLOW_START");
  f.write_release({"r2"});
  wait_past(v1);
  Background run = f.spawn_plugbox({"fleet", "deploy", "--group", "app", "--json"});
  fs::path journal = wait_for_start_step(f, v1, n[1]);
  const std::string v2 = journal.parent_path().filename().string();
  f.sshd().stop_host(n[1]);  // its sessions, the start and the lock die with it
  RunResult r = run.wait();
  INFO(r.describe());
  CHECK(r.rc == 3);
  nlohmann::json result;
  for (const auto& e : json_lines(r.out))
    if (e.value("event", "") == "result") result = e;
  REQUIRE(result.is_object());
  for (const auto& h : result["hosts"]) {
    INFO(h.dump());
    if (h["host"] == n[1]) {
      CHECK(h["state"] == "ROLLBACK FAILED");
      CHECK(h["needs_attention"] == true);
    } else if (h["host"] == n[0]) {
      CHECK(h["state"] == "rolled back");
    } else {
      CHECK(h["needs_attention"] == false);
    }
  }
  CHECK(result.value("summary", "").find("ROLLBACK INCOMPLETE") != std::string::npos);
  // The canary is back; the lost host is still on v2; the rest never moved.
  require_all_live(f, {{n[0], v1}, {n[1], v2}, {n[2], v1}, {n[3], v1}});

  f.sshd().start_host(n[1]);
  f.unmark(n[1], "SLOW_START");
  auto rb = f.plugbox({"fleet", "rollback", "--group", "app", "--from", v2});
  INFO(rb.describe());
  CHECK(rb.rc == 0);
  require_all_live(f, {{n[0], v1}, {n[1], v1}, {n[2], v1}, {n[3], v1}});
  for (const auto& row : status_json(f)) CHECK(row["lock"].is_null());
}

void scenario_fresh_hosts(E2eFleet& f) {
  // A local host's directory is made when first reached; an sshd host's exists.
  for (const auto& h : f.hosts()) fs::create_directories(h.home);
  Snapshot before = f.snapshot_all();
  auto table = f.plugbox({"fleet", "status", "--group", "app"});
  INFO(table.describe());
  CHECK(table.rc == 0);
  nlohmann::json rows = status_json(f);
  REQUIRE(rows.size() == f.hosts().size());
  for (const auto& r : rows) {
    INFO(r.dump());
    CHECK(r["reachable"] == true);
    CHECK(r["error"].is_null());
    CHECK(r["live"].is_null());
    CHECK(r["versions"].empty());
  }
  auto gc = f.plugbox({"fleet", "gc", "--group", "app", "--keep", "2"});
  INFO(gc.describe());
  CHECK(gc.rc == 0);
  CHECK(gc.out.find("nothing deployed here") != std::string::npos);
  auto rb = f.plugbox({"fleet", "rollback", "--group", "app"});
  INFO(rb.describe());
  CHECK(rb.rc == 0);
  CHECK(rb.out.find("nothing to roll back") != std::string::npos);
  CHECK(rb.out.find("not reached") == std::string::npos);
  // Only the journals of gc and rollback were written.
  std::string diff = snapshot_diff(before, f.snapshot_all());
  std::istringstream in(diff);
  for (std::string l; std::getline(in, l);) {
    INFO(l);
    CHECK(l.find("[test] state") != std::string::npos);
  }
}

void scenario_unreachable_host(E2eFleet& f, const std::string& down, const std::string& bastion) {
  const auto n = f.names();
  const std::string v1 = deploy_release(f, {"r1"});
  const std::string v2 = deploy_release(f, {"r2"});
  f.sshd().stop_host(down);

  f.write_release({"r3"});
  Deployed d = deploy(f);
  INFO(d.run.describe());
  CHECK(d.run.rc == 1);
  const std::string v3 = d.version;
  REQUIRE(!v3.empty());
  CHECK(d.host(down).value("state", "") == "not reached");
  CHECK_FALSE(d.host(down).value("error", "").empty());
  for (const auto& h : n) {
    INFO("host " << h);
    HomeOnDisk home = f.home_of(h);
    CHECK(home.live == v2);
    CHECK(home.names() == (std::vector<std::string>{v1, v2}));
  }

  auto table = f.plugbox({"fleet", "status", "--group", "app"});
  INFO(table.describe());
  CHECK(table.rc == 1);
  nlohmann::json rows = nlohmann::json::parse(f.plugbox({"fleet", "status", "--group", "app", "--json"}).out);
  for (const auto& h : n) {
    INFO("host " << h);
    const auto& r = row_of(rows, h);
    CHECK(r["reachable"] == (h != down));
    CHECK(r["error"].is_null() == (h != down));
    if (h != down) CHECK(r["live"] == v2);
  }
  for (const auto& line : text_lines(table.out))
    if (line.rfind(down + " ", 0) == 0) CHECK(line.find("NO (") != std::string::npos);

  // Rollback: the reachable hosts go back; the one that is down is named.
  auto rb = f.plugbox({"fleet", "rollback", "--group", "app", "--json"});
  INFO(rb.describe());
  CHECK(rb.rc == 3);
  nlohmann::json result;
  for (const auto& e : json_lines(rb.out))
    if (e.value("event", "") == "result") result = e;
  REQUIRE(result.is_object());
  for (const auto& h : result["hosts"]) {
    INFO(h.dump());
    if (h["host"] == down) {
      CHECK(h["state"] == "not reached");
      CHECK(h["needs_attention"] == true);
    } else {
      CHECK(h["state"] == "rolled back");
    }
  }
  for (const auto& h : n) CHECK(f.home_of(h).live == (h == down ? v2 : v1));

  // Back up: it missed the rollback, and `--from` finishes the job.
  f.sshd().start_host(down);
  auto again = f.plugbox({"fleet", "rollback", "--group", "app", "--from", v2});
  INFO(again.describe());
  CHECK(again.rc == 0);
  for (const auto& h : n) CHECK(f.home_of(h).live == v1);
  check_locks_free(f);

  // The bastion loses power: every host behind it (one or two hops) is out of reach.
  f.sshd().stop_host(bastion);
  nlohmann::json rows2 = nlohmann::json::parse(f.plugbox({"fleet", "status", "--group", "app", "--json"}).out);
  for (const auto& h : f.hosts()) {
    INFO("host " << h.name);
    bool behind = !h.via.empty() && h.via.front() == bastion;
    CHECK(row_of(rows2, h.name)["reachable"] == !behind);
  }
}

}  // namespace plugbox::e2e
