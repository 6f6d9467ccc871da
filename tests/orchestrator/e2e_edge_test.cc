// End-to-end tests of the edges the shared scenarios (e2e_scenarios.h) do not
// reach, which an operator of a few hundred hosts relies on:
//  - a hung host: its sshd frozen (TCP connects, SSH never answers);
//  - one group mixing local-transport and sshd hosts;
//  - --parallel 1, proven from the run's journal (not from timings);
//  - Ctrl-C during `fleet rollback` and during `fleet gc`;
//  - the deploy lock lost mid-deploy (its holder on a host killed).
// The sshd ones skip, saying why, where the harness cannot run (not root).
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <sstream>

#include "tests/harness/sshd_fleet.h"
#include "tests/orchestrator/e2e_scenarios.h"

using namespace plugbox::e2e;
using nlohmann::json;

#define EDGE_FLEET_OR_SKIP(var, factory)  \
  std::string var##_why;                  \
  auto var = E2eFleet::factory(&var##_why); \
  if (!var) {                             \
    WARN("SKIPPED: " << var##_why);       \
    return;                               \
  }

namespace {

std::vector<json> json_lines(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

// A run's journal, record by record in the order written.
std::vector<json> journal_records(const fs::path& p) {
  std::vector<json> out;
  for (const auto& line : lines_of(p)) out.push_back(json::parse(line));
  return out;
}

// The `--json` result event of a fleet command (null if it printed none).
json result_of(const RunResult& r) {
  json result;
  for (const auto& e : json_lines(r.out))
    if (e.value("event", "") == "result") result = e;
  return result;
}

const json& host_in(const json& result, const std::string& name) {
  if (result.is_object() && result.contains("hosts"))
    for (const auto& h : result["hosts"])
      if (h.value("host", "") == name) return h;
  FAIL("the result names no host " << name << ": " << result.dump());
  throw std::logic_error("unreachable");
}

const json& row_of(const json& rows, const std::string& host) {
  for (const auto& r : rows)
    if (r.value("host", "") == host) return r;
  FAIL("no status row for " << host << " in " << rows.dump());
  throw std::logic_error("unreachable");
}

std::map<std::string, std::string> service_logs(const E2eFleet& f) {
  std::map<std::string, std::string> logs;
  for (const auto& n : f.names()) logs[n] = f.service_log(n);
  return logs;
}

// A host whose live version works: `live` resolves to a version recorded
// ready, its scripts in place, the chain's links sound; its deploy lock free
// and its holder line cleared (a holder killed with SIGKILL cannot clear it:
// `lock_line_cleared = false`, and check_no_lock_held asks the flock).
void check_working(const E2eFleet& f, const std::string& name, bool lock_line_cleared = true) {
  INFO("host " << name);
  HomeOnDisk h = f.home_of(name);
  REQUIRE_FALSE(h.live.empty());
  REQUIRE(h.versions.count(h.live) == 1);
  CHECK(h.versions[h.live].state == "ready");
  CHECK(fs::is_regular_file(f.host(name).home / "deploy" / "live" / "bin" / "start"));
  CHECK(h.problems.empty());
  if (lock_line_cleared) CHECK(lock_file_text(f.host(name).home).empty());
}

// `fleet status` (which probes the flock itself): every host reachable, no
// deploy lock held anywhere.
void check_no_lock_held(const E2eFleet& f) {
  RunResult st = f.plugbox({"fleet", "status", "--group", "app", "--json"});
  INFO(st.describe());
  CHECK(st.rc == 0);
  json rows = json::parse(st.out, nullptr, false);
  REQUIRE(rows.is_array());
  REQUIRE(rows.size() == f.hosts().size());
  for (const auto& r : rows) {
    INFO(r.dump());
    CHECK(r["reachable"] == true);
    CHECK(r["lock"].is_null());
  }
}

// Waits until a journal of `kind` other than `not_this` (the newest before
// the run began) records `host` beginning `step`; returns that journal.
fs::path wait_for_step(const E2eFleet& f, const std::string& kind, const fs::path& not_this, const std::string& host,
                       const std::string& step) {
  fs::path found;
  bool seen = eventually(
      [&] {
        fs::path j = f.newest_journal(kind);
        if (j.empty() || j == not_this) return false;
        for (const auto& e : journal_records(j))
          if (e.value("host", "") == host && e.value("step", "") == step && e.contains("command")) {
            found = j;
            return true;
          }
        return false;
      },
      std::chrono::seconds(60));
  INFO("waiting for " << host << " to begin " << step << " in a new " << kind << " journal");
  REQUIRE(seen);
  return found;
}

// The staging phase of a deploy's journal, host by host: the records before
// the first of the switch (or cleanup) phase.
struct StagingSpan {
  std::size_t first = 0, last = 0;  // record indices
  double t_first = 0, t_last = 0;   // the records' "t"
  std::vector<std::string> steps;   // "step" or "event" of each record, in order
  std::vector<std::string> begun;   // the steps of the commands begun (records with a "command")
};

std::map<std::string, StagingSpan> staging_spans(const std::vector<json>& records) {
  std::map<std::string, StagingSpan> spans;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& e = records[i];
    const std::string event = e.value("event", "");
    if (event == "switch" || event == "cleanup") break;
    const std::string host = e.value("host", "");
    if (host.empty()) continue;
    const double t = e.value("t", 0.0);
    auto [it, fresh] = spans.try_emplace(host);
    StagingSpan& s = it->second;
    if (fresh) s.first = i, s.t_first = t;
    s.last = i;
    s.t_last = t;
    s.steps.push_back(e.contains("step") ? e.value("step", "") : event);
    if (e.contains("command")) s.begun.push_back(e.value("step", ""));
  }
  return spans;
}

// A deploy journal's staging records split where its second half begins
// (the first upload sent): every host is locked before any is sent anything.
std::pair<std::vector<json>, std::vector<json>> staging_halves(const std::vector<json>& records) {
  std::size_t i = 0;
  while (i < records.size() && !(records[i].value("step", "") == "upload" && records[i].contains("command"))) ++i;
  return {std::vector<json>(records.begin(), records.begin() + std::ptrdiff_t(i)),
          std::vector<json>(records.begin() + std::ptrdiff_t(i), records.end())};
}

// "" when no two hosts were ever being staged at once (each host's records,
// first to last, come wholly before or wholly after every other host's, by
// position and by "t"); else the first overlap found.
std::string staging_overlap(const std::map<std::string, StagingSpan>& spans) {
  std::vector<std::pair<std::string, StagingSpan>> order(spans.begin(), spans.end());
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
  for (std::size_t k = 1; k < order.size(); ++k) {
    const auto& [a, sa] = order[k - 1];
    const auto& [b, sb] = order[k];
    if (sa.last > sb.first)
      return b + " began staging (record " + std::to_string(sb.first) + ") before " + a + " was done (record " +
             std::to_string(sa.last) + ")";
    if (sa.t_last > sb.t_first)
      return b + " began staging at t=" + std::to_string(sb.t_first) + ", before " + a + "'s last record at t=" +
             std::to_string(sa.t_last);
  }
  return "";
}

// Freezes an sshd host (SIGSTOP: TCP connects, SSH never answers) and thaws
// it when the scope ends, however it ends.
class FrozenHost {
 public:
  FrozenHost(plugbox::testing::SshdFleet& fleet, std::string name) : fleet_(fleet), name_(std::move(name)) {
    fleet_.freeze_host(name_);
  }
  ~FrozenHost() {
    try {
      fleet_.thaw_host(name_);
    } catch (const std::exception& e) {
      WARN("could not thaw " << name_ << ": " << e.what());
    }
  }
  FrozenHost(const FrozenHost&) = delete;
  FrozenHost& operator=(const FrozenHost&) = delete;

 private:
  plugbox::testing::SshdFleet& fleet_;
  std::string name_;
};

}  // namespace

// 1. A hung host. The client's connect deadline is orchestrator/deploy_run.cc's
// `h.conn.open(30)` (and fleet_ops.cc's for status): the deploy and the status
// each wait that long for the frozen hosts, so they run side by side here.
TEST_CASE("sshd e2e edge: frozen hosts fail a deploy in bounded time: named, nobody switched, V removed, "
          "status shows them unreachable",
          "[e2e][sshd][slow]") {
  EDGE_FLEET_OR_SKIP(f, sshd);
  const auto n = f->names();  // web1 web2 (behind bastion), deep (two hops), solo (direct)
  const std::string v1 = deploy_release(*f, {"r1"});
  const auto logs_before = service_logs(*f);
  const std::vector<std::string> hung{"web2", "solo"};  // one through the bastion's tunnel, one direct
  std::string v2;
  {
    FrozenHost frozen_web2(f->sshd(), hung[0]);
    FrozenHost frozen_solo(f->sshd(), hung[1]);
    f->write_release({"r2"});
    wait_past(v1);
    RunOptions o = f->options();
    o.timeout = std::chrono::seconds(150);  // the bound: a connect deadline (30 s) plus the cleanup, with room
    Background status = f->spawn_plugbox({"fleet", "status", "--group", "app", "--json"});
    const auto t0 = std::chrono::steady_clock::now();
    RunResult d = f->plugbox({"fleet", "deploy", "--group", "app", "--json"}, o);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO("the deploy took " << took << " s: " << d.describe());
    REQUIRE_FALSE(d.timed_out);
    CHECK(d.rc == 1);
    json result = result_of(d);
    REQUIRE(result.is_object());
    for (const auto& e : json_lines(d.out))
      if (e.value("event", "") == "plan" && e.contains("version")) v2 = e["version"].get<std::string>();
    REQUIRE(!v2.empty());
    CHECK(result.value("summary", "").find("nothing switched") != std::string::npos);
    for (const auto& h : hung) {
      INFO("hung host " << h);
      CHECK(host_in(result, h).value("state", "") == "not reached");
      CHECK(host_in(result, h).value("needs_attention", false));
      // The reason: the SSH handshake ran out of time (TCP itself connected).
      CHECK(host_in(result, h).value("error", "").find("timed out") != std::string::npos);
    }
    for (const auto& h : n) {
      INFO("host " << h);
      HomeOnDisk home = f->home_of(h);  // straight from the disk: a frozen host's files are still readable here
      CHECK(home.live == v1);
      CHECK(home.names() == std::vector<std::string>{v1});  // V staged on the others, then removed
      CHECK(f->service_log(h) == logs_before.at(h));       // nothing stopped or started anywhere
      CHECK(lock_file_text(f->host(h).home).empty());
    }
    // The journal: the hung hosts' connects ran out; nothing was switched anywhere.
    fs::path journal = f->runs_dir() / v2 / "deploy.jsonl";
    std::set<std::string> connect_failed;
    for (const auto& e : journal_records(journal)) {
      INFO(e.dump());
      CHECK(e.value("step", "") != "upgrade-to");
      CHECK(e.value("step", "") != "stop");
      if (e.value("step", "") == "connect" && e.contains("error")) connect_failed.insert(e.value("host", ""));
    }
    CHECK(connect_failed == std::set<std::string>(hung.begin(), hung.end()));

    RunResult st = status.wait();
    INFO("status: " << st.describe());
    CHECK_FALSE(st.timed_out);
    CHECK(st.rc == 1);
    json rows = json::parse(st.out, nullptr, false);
    REQUIRE(rows.is_array());
    for (const auto& h : n) {
      INFO("host " << h);
      const bool is_hung = std::find(hung.begin(), hung.end(), h) != hung.end();
      CHECK(row_of(rows, h)["reachable"] == !is_hung);
      CHECK(row_of(rows, h)["error"].is_null() == !is_hung);
      if (is_hung) CHECK(row_of(rows, h).value("error", "").find("timed out") != std::string::npos);
    }
  }
  // Thawed: nothing was left half-done by the run that gave up on them; the
  // next deploy goes through everywhere.
  const std::string v3 = deploy_release(*f, {"r3"});
  CHECK(v3 > v2);
  for (const auto& h : n) {
    INFO("host " << h);
    CHECK(f->home_of(h).names() == (std::vector<std::string>{v1, v3}));
    check_working(*f, h);
    CHECK(f->home_of(h).live == v3);
  }
}

// 2. One group of both kinds (l1 local, web1 behind the bastion, solo direct,
// l2 local): the shared scenarios, then a fleet rollback across both.
TEST_CASE("mixed e2e edge: local and sshd hosts in one group: two deploys, then a fleet rollback", "[e2e][sshd]") {
  EDGE_FLEET_OR_SKIP(f, mixed);
  scenario_two_deploys(*f);
  const auto n = f->names();
  REQUIRE(n == (std::vector<std::string>{"l1", "web1", "solo", "l2"}));
  const std::vector<std::string> chain = f->home_of("l1").names();
  REQUIRE(chain.size() == 2);
  const std::string v1 = chain[0], v2 = chain[1];
  const auto logs_before = service_logs(*f);
  auto rb = f->plugbox({"fleet", "rollback", "--group", "app", "--json"});
  INFO(rb.describe());
  CHECK(rb.rc == 0);
  json result = result_of(rb);
  REQUIRE(result.is_object());
  for (const auto& h : n) {
    INFO("host " << h);
    CHECK(host_in(result, h).value("state", "") == "rolled back");
    CHECK(f->home_of(h).live == v1);
    CHECK(f->home_of(h).names() == (std::vector<std::string>{v1, v2}));
    CHECK(f->service_log(h) == logs_before.at(h) + "stop " + v2 + " " + v1 + "\nstart " + v1 + " " + v1 + "\n");
    check_working(*f, h);
  }
}

TEST_CASE("mixed e2e edge: a later batch's failure puts local and sshd hosts back alike", "[e2e][sshd]") {
  // Batches [1, 1, "100%"]: l1 | web1 | solo l2, and l2's health check fails.
  EDGE_FLEET_OR_SKIP(f, mixed);
  scenario_later_batch_health_failure(*f);
}

// 3. --parallel 1: staging never works on two hosts at once.
TEST_CASE("local e2e edge: --parallel 1 stages one host at a time (from the journal)", "[e2e][local]") {
  auto f = E2eFleet::local();
  const auto n = f->names();
  Deployed one = deploy(*f, {"--group", "app", "--parallel", "1"});
  INFO(one.run.describe());
  REQUIRE(one.run.rc == 0);
  // Staging locks every host (connect, init, lock, status), then sends to
  // every host (upload, seal): one host at a time in each half.
  const auto [locking, sending] = staging_halves(journal_records(f->runs_dir() / one.version / "deploy.jsonl"));
  auto lock_spans = staging_spans(locking);
  auto send_spans = staging_spans(sending);
  REQUIRE(lock_spans.size() == n.size());
  REQUIRE(send_spans.size() == n.size());
  CHECK(staging_overlap(lock_spans) == "");
  CHECK(staging_overlap(send_spans) == "");
  for (const auto& [host, s] : lock_spans) {
    INFO("host " << host << ": " << s.steps.size() << " locking records");
    REQUIRE(!s.steps.empty());
    CHECK(s.steps.front() == "connect");
    CHECK(s.steps.back() == "status");
    CHECK(std::count(s.begun.begin(), s.begun.end(), "upload") == 0);
  }
  for (const auto& [host, s] : send_spans) {
    INFO("host " << host << ": " << s.steps.size() << " sending records");
    REQUIRE(!s.steps.empty());
    CHECK(s.steps.back() == "stage");
    REQUIRE(!s.begun.empty());
    CHECK(std::count(s.begun.begin(), s.begun.end(), "upload") == 1);
    CHECK(std::count(s.begun.begin(), s.begun.end(), "seal") == 1);
    CHECK(s.begun.back() == "seal");
  }
  for (const auto& h : n) CHECK(f->home_of(h).live == one.version);

  // The same reading of a deploy with the default --parallel (50) does see
  // hosts locked and sent to at once: the checks above can fail.
  f->write_release({"r2"});
  Deployed all = deploy(*f);
  INFO(all.run.describe());
  REQUIRE(all.run.rc == 0);
  const auto [locking_all, sending_all] = staging_halves(journal_records(f->runs_dir() / all.version / "deploy.jsonl"));
  auto spans_all = staging_spans(locking_all);
  REQUIRE(spans_all.size() == n.size());
  CHECK(staging_overlap(spans_all) != "");
  CHECK(staging_overlap(staging_spans(sending_all)) != "");
}

// 4a. Ctrl-C during fleet rollback. One host at a time (--parallel 1), the
// first held in its start (SLOW_START): the interrupt lands mid-rollback.
TEST_CASE("local e2e edge: Ctrl-C during fleet rollback: exit 130, every host on a working version, "
          "a second rollback finishes the job",
          "[e2e][local]") {
  auto f = E2eFleet::local();
  const auto n = f->names();
  const std::string v1 = deploy_release(*f, {"r1"});
  const std::string v2 = deploy_release(*f, {"r2"});
  const auto logs_before = service_logs(*f);
  f->mark(n[0], "SLOW_START");
  Background rb = f->spawn_plugbox({"fleet", "rollback", "--group", "app", "--parallel", "1", "--json"});
  wait_for_step(*f, "rollback", fs::path(), n[0], "start");
  rb.signal(SIGINT);
  CHECK(eventually([&] { return rb.err_so_far().find("interrupted") != std::string::npos; }));
  f->mark(n[0], "RELEASE_START");  // the start under way finishes: the host is not left stopped
  RunResult r = rb.wait();
  INFO(r.describe());
  CHECK(r.rc == 130);
  json result = result_of(r);
  REQUIRE(result.is_object());
  CHECK(host_in(result, n[0]).value("state", "") == "rolled back");
  CHECK(f->home_of(n[0]).live == v1);
  CHECK(f->service_log(n[0]) == logs_before.at(n[0]) + "stop " + v2 + " " + v1 + "\nstart " + v1 + " " + v1 + "\n");
  for (std::size_t i = 1; i < n.size(); ++i) {
    INFO("host " << n[i]);
    CHECK(host_in(result, n[i]).value("state", "").find("interrupted") != std::string::npos);
    CHECK(f->home_of(n[i]).live == v2);
    CHECK(f->service_log(n[i]) == logs_before.at(n[i]));  // not even stopped
  }
  for (const auto& h : n) check_working(*f, h);
  check_no_lock_held(*f);

  f->unmark(n[0], "SLOW_START");
  auto again = f->plugbox({"fleet", "rollback", "--group", "app", "--json"});
  INFO(again.describe());
  CHECK(again.rc == 0);
  json result2 = result_of(again);
  REQUIRE(result2.is_object());
  CHECK(host_in(result2, n[0]).value("state", "").find("unchanged") != std::string::npos);
  for (const auto& h : n) {
    INFO("host " << h);
    CHECK(f->home_of(h).live == v1);
    // Each host stopped and started exactly once on the way back.
    CHECK(f->service_log(h) == logs_before.at(h) + "stop " + v2 + " " + v1 + "\nstart " + v1 + " " + v1 + "\n");
    check_working(*f, h);
  }
}

// 4b. Ctrl-C during fleet gc: the first host's gc held on the host
// (hook_server's SLOW_SERVER_gc), one host at a time.
TEST_CASE("local e2e edge: Ctrl-C during fleet gc: exit 130, every host on a working version, a second gc "
          "finishes the job",
          "[e2e][local]") {
  auto f = E2eFleet::local();
  f->hook_server();
  const auto n = f->names();
  const std::string v1 = deploy_release(*f, {"r1"});
  const std::string v2 = deploy_release(*f, {"r2"});
  const std::string v3 = deploy_release(*f, {"r3"});
  f->mark(n[0], "SLOW_SERVER_gc");
  Background gc = f->spawn_plugbox({"fleet", "gc", "--group", "app", "--keep", "2", "--parallel", "1", "--json"});
  REQUIRE(eventually([&] { return fs::exists(f->host(n[0]).home / "WAITING_SERVER_gc"); }, std::chrono::seconds(60)));
  gc.signal(SIGINT);
  CHECK(eventually([&] { return gc.err_so_far().find("interrupted") != std::string::npos; }));
  f->mark(n[0], "RELEASE_SERVER");  // the gc under way on that host finishes
  RunResult r = gc.wait();
  INFO(r.describe());
  CHECK(r.rc == 130);
  json result = result_of(r);
  REQUIRE(result.is_object());
  CHECK(host_in(result, n[0]).value("state", "") == "collected");
  // The summary says gc did not get everywhere, and what to do.
  CHECK(result.value("summary", "").find("on 1 of 4 host(s)") != std::string::npos);
  CHECK(result.value("summary", "").find("interrupted: 3 host(s) skipped (run it again to finish)") != std::string::npos);
  CHECK(f->home_of(n[0]).names() == (std::vector<std::string>{v2, v3}));
  for (std::size_t i = 1; i < n.size(); ++i) {
    INFO("host " << n[i]);
    CHECK(host_in(result, n[i]).value("state", "").find("interrupted") != std::string::npos);
    CHECK(f->home_of(n[i]).names() == (std::vector<std::string>{v1, v2, v3}));
  }
  for (const auto& h : n) {
    CHECK(f->home_of(h).live == v3);
    check_working(*f, h);
  }
  check_no_lock_held(*f);

  f->unmark(n[0], "SLOW_SERVER_gc");
  auto again = f->plugbox({"fleet", "gc", "--group", "app", "--keep", "2", "--json"});
  INFO(again.describe());
  CHECK(again.rc == 0);
  for (const auto& h : n) {
    INFO("host " << h);
    HomeOnDisk home = f->home_of(h);
    CHECK(home.names() == (std::vector<std::string>{v2, v3}));
    CHECK(home.live == v3);
    CHECK(home.versions[v3].previous == v2);
    CHECK(home.versions[v2].next == v3);
    CHECK(home.versions[v2].previous.empty());  // v1 spliced out
    check_working(*f, h);
  }
}

// 5. The deploy lock lost mid-deploy: the `plugbox-server lock` process
// holding it on a host (its pid is in the lock file) is killed while the
// canary starts. plugbox must notice, touch that host no more (not even its
// stop), and put the fleet back.
TEST_CASE("local e2e edge: a deploy lock lost mid-deploy: that host is left alone, the fleet goes back", "[e2e][local]") {
  auto f = E2eFleet::local();
  const auto n = f->names();
  const std::string v1 = deploy_release(*f, {"r1"});
  const auto logs_before = service_logs(*f);
  const fs::path last_deploy = f->newest_journal("deploy");
  f->mark(n[0], "SLOW_START");
  f->write_release({"r2"});
  wait_past(v1);
  Background run = f->spawn_plugbox({"fleet", "deploy", "--group", "app", "--json"});
  const fs::path journal = wait_for_step(*f, "deploy", last_deploy, n[0], "start");
  const std::string v2 = journal.parent_path().filename().string();

  // Who holds n1's lock: this run's holder process, by the pid it wrote.
  json holder = json::parse(lock_file_text(f->host(n[1]).home), nullptr, false);
  INFO("n1's lock file: " << holder.dump());
  REQUIRE(holder.is_object());
  std::string owner;
  for (const auto& e : journal_records(journal))
    if (e.value("event", "") == "start") owner = e.value("owner", "");
  REQUIRE(holder.value("owner", "") == owner);
  const pid_t pid = holder.value("pid", 0);
  REQUIRE(pid > 0);
  const std::string cmdline = slurp("/proc/" + std::to_string(pid) + "/cmdline");
  REQUIRE(cmdline.find(f->host(n[1]).home.string()) != std::string::npos);  // not a recycled pid
  REQUIRE(::kill(pid, SIGKILL) == 0);
  // plugbox's journal says when it noticed.
  bool noticed = eventually([&] {
    for (const auto& e : journal_records(journal))
      if (e.value("host", "") == n[1] && e.value("step", "") == "lock" && e.value("lost", false)) return true;
    return false;
  });
  CHECK(noticed);
  f->mark(n[0], "RELEASE_START");

  RunResult r = run.wait();
  INFO(r.describe());
  CHECK(r.rc == 1);
  json result = result_of(r);
  REQUIRE(result.is_object());
  CHECK(host_in(result, n[0]).value("state", "") == "rolled back");
  CHECK(host_in(result, n[1]).value("error", "").find("lock was lost") != std::string::npos);
  CHECK_FALSE(host_in(result, n[1]).value("needs_attention", true));
  for (const auto& h : n) {
    INFO("host " << h);
    CHECK(f->home_of(h).live == v1);
    check_working(*f, h, h != n[1]);
  }
  check_no_lock_held(*f);
  // n1 was never stopped: without its lock plugbox ran nothing there.
  CHECK(f->service_log(n[1]) == logs_before.at(n[1]));
  CHECK(f->service_log(n[0]) == logs_before.at(n[0]) + "stop " + v1 + " " + v2 + "\nstart " + v2 + " " + v2 +
                                    "\nstop " + v2 + " " + v1 + "\nstart " + v1 + " " + v1 + "\n");
  for (const auto& e : journal_records(journal)) {
    INFO(e.dump());
    if (e.value("host", "") == n[1] && e.contains("command")) {
      // After the lock was lost nothing ran on n1 but the unlock.
      CHECK(e.value("step", "") != "stop");
      CHECK(e.value("step", "") != "upgrade-to");
    }
  }
}
