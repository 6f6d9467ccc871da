#include "server-tools/switch_txn.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "server-tools/host_record.h"
#include "test_support.h"

using namespace plugbox::server;
using namespace plugbox::server::testing;
using nlohmann::json;

namespace {

// A shell step appending its name to HOME/service.log.
json shell_step(const fs::path& home, const std::string& name, const std::string& line, const std::string& effect,
                bool tolerate = false, double timeout = 30) {
  return {{"name", name},    {"shell", line + " && echo " + name + " >> service.log"},
          {"env", json::object()}, {"cwd", home.string()},
          {"timeout", timeout}, {"tolerate_failure", tolerate}, {"effect", effect}};
}

json op_step(const std::string& op, const std::string& v) {
  return {{"name", op}, {"op", op}, {"version", v}, {"timeout", 30}, {"effect", "switch"}};
}

json request(const std::string& run, const std::string& txn, const std::string& from, const std::string& to,
             json steps) {
  return {{"run", run}, {"kind", "deploy"}, {"txn", txn}, {"from", from}, {"to", to}, {"steps", steps}};
}

// Runs `switch` in this process with `req` on its stdin.
CliResult run_switch(const fs::path& home, const json& req, std::vector<std::string> extra = {}) {
  const fs::path in = home.parent_path() / "request.json";
  std::ofstream(in) << req.dump();
  int fd = ::open(in.c_str(), O_RDONLY | O_CLOEXEC);
  std::vector<std::string> args = extra;
  args.push_back("switch");
  CliResult r = cli(home, args, {}, fd);
  ::close(fd);
  return r;
}

std::vector<json> replies(const std::string& out) {
  std::vector<json> v;
  std::istringstream s(out);
  for (std::string line; std::getline(s, line);)
    if (!line.empty()) v.push_back(json::parse(line));
  return v;
}

json status_of(const fs::path& home) { return json::parse(must(cli(home, {"status", "--json"})).out); }

bool alive(pid_t pid) { return ::kill(pid, 0) == 0; }

}  // namespace

TEST_CASE("a switch runs its steps in order, answers each, and records the run on the host", "[switch]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string v1 = vname(1), v2 = vname(2);
  deploy(home, v1);
  make_ready(home, v2);
  json steps = json::array({shell_step(home, "stop", "true", "stop"), op_step("upgrade-to", v2),
                            shell_step(home, "start", "true", "start")});
  CliResult r = run_switch(home, request(v2, "switch", v1, v2, steps));
  INFO(describe(r));
  REQUIRE(r.rc == 0);
  auto rs = replies(r.out);
  REQUIRE(rs.size() == 7);  // running + result per step, then done
  CHECK(rs[0] == json({{"step", 0}, {"name", "stop"}, {"state", "running"}}));
  CHECK(rs[3]["name"] == "upgrade-to");
  CHECK(rs[3]["ok"] == true);
  CHECK(rs[6]["txn"] == "done");
  CHECK(rs[6]["ok"] == true);
  CHECK(rs[6]["begun"] == 3);
  CHECK(slurp(home / "service.log") == "stop\nstart\n");
  CHECK(link_of(home / "deploy/live") == v2);
  json st = status_of(home);
  CHECK(st["run"]["run"] == v2);
  CHECK(st["run"]["from"] == v1);
  CHECK(st["run"]["state"] == "switched");
  CHECK(st["run"]["steps"].size() == 3);
  for (const auto& s : st["run"]["steps"]) CHECK(s["state"] == "ok");
  CHECK(st["service_stopped"] == false);
  CHECK(st["transaction"].is_null());
  CHECK(st["problems"].empty());
}

TEST_CASE("a failing start leaves a record that says the service is stopped, a tolerated stop goes on", "[switch]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string v1 = vname(1), v2 = vname(2);
  deploy(home, v1);
  make_ready(home, v2);
  json steps = json::array({shell_step(home, "stop", "false", "stop", /*tolerate=*/true), op_step("upgrade-to", v2),
                            shell_step(home, "start", "echo boom >&2; false", "start")});
  CliResult r = run_switch(home, request(v2, "switch", v1, v2, steps));
  INFO(describe(r));
  CHECK(r.rc == 1);
  auto rs = replies(r.out);
  REQUIRE(!rs.empty());
  CHECK(rs.back()["ok"] == false);
  CHECK(rs.back()["begun"] == 3);
  REQUIRE(rs.back()["tolerated"].size() == 1);
  CHECK(rs[5]["error"] == "exit 1: boom");
  json st = status_of(home);
  CHECK(st["run"]["state"] == "failed");
  CHECK(st["run"]["steps"][2]["state"] == "failed");
  CHECK(st["service_stopped"] == true);
  REQUIRE(st["problems"].size() == 1);
  CHECK(st["problems"][0].get<std::string>().find("left the service stopped") != std::string::npos);
}

TEST_CASE("a step past its timeout is killed with every child it left behind", "[switch]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string v1 = vname(1);
  deploy(home, v1);
  // The step backgrounds a long sleep (its pid in a file) and hangs itself.
  json step = shell_step(home, "start", "sleep 30 & echo $! > bg.pid; sleep 30", "start", false, 0.5);
  CliResult r = run_switch(home, request(v1, "switch", v1, v1, json::array({step})));
  INFO(describe(r));
  CHECK(r.rc == 1);
  auto rs = replies(r.out);
  REQUIRE(rs.size() >= 2);
  CHECK(rs[1]["error"].get<std::string>().find("timed out") != std::string::npos);
  pid_t bg = std::stoi(slurp(home / "bg.pid"));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = !alive(bg);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(gone);
}

TEST_CASE("a malformed request is bad input and changes nothing", "[switch]") {
  TempDir t;
  const auto home = init_home(t);
  const Snapshot before = snapshot(home);
  json req = {{"run", "r"}, {"kind", "deploy"}, {"txn", "sideways"}, {"to", "x"}, {"steps", json::array()}};
  CliResult r = run_switch(home, req);
  CHECK(r.rc == 2);
  CHECK(r.err.find("txn must be switch or undo") != std::string::npos);
  CHECK(snapshot(home) == before);
}

#ifdef PLUGBOX_SERVER_BIN
TEST_CASE("while a switch runs every other change is refused naming it, killed, it shows as interrupted",
          "[switch]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string v1 = vname(1), v2 = vname(2);
  deploy(home, v1);
  make_ready(home, v2);
  json steps = json::array({shell_step(home, "stop", "true", "stop"), shell_step(home, "slow", "sleep 30", "none")});
  Child c(server_argv(home, {"switch"}));
  c.write_stdin(request(v2, "switch", v1, v2, steps).dump());
  c.close_stdin();
  // Wait until the slow step runs.
  bool running = false;
  for (int i = 0; i < 250 && !running; ++i) {
    json st = status_of(home);
    running = st["transaction"].is_object() && st["transaction"]["step"] == "slow";
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(running);
  CHECK(status_of(home)["transaction"]["state"] == "running");
  CliResult gc = cli(home, {"gc", "--keep", "2"});
  CHECK(gc.rc == 1);
  CHECK(gc.err.find("a switch transaction still running") != std::string::npos);
  CliResult lock_now = cli(home, {"--owner", "someone", "upgrade-to", v2});
  CHECK(lock_now.rc == 1);
  CHECK(link_of(home / "deploy/live") == v1);
  // The transaction's own process (it left the caller's session) holds the
  // txn lock; its pid is in the lock file. Killed, it can finish nothing.
  auto holder = LockHolder::from_json(slurp(home / "deploy/.plugbox/txn.lock"));
  REQUIRE(holder);
  CHECK(holder->pid != c.pid());
  ::kill(pid_t(holder->pid), SIGKILL);
  bool interrupted = false;
  for (int i = 0; i < 250 && !interrupted; ++i) {
    json st = status_of(home);
    interrupted = st["transaction"].is_object() && st["transaction"]["state"] == "interrupted";
    if (!interrupted) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(interrupted);
  json st = status_of(home);
  CHECK(st["service_stopped"] == true);
  REQUIRE(!st["problems"].empty());
  CHECK(st["problems"][0].get<std::string>().find("was interrupted during its slow step") != std::string::npos);
  c.wait();
}
#endif

TEST_CASE("a start that leaves the service running in the background ends when its shell does", "[switch]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string v1 = vname(1);
  deploy(home, v1);
  // The background child keeps the step's output open, as a daemon started
  // without redirections does; it must neither hold the step up nor die.
  json step = shell_step(home, "start", "sleep 30 & echo $! > bg.pid", "start", false, 20);
  const auto t0 = std::chrono::steady_clock::now();
  CliResult r = run_switch(home, request(v1, "switch", v1, v1, json::array({step})));
  const auto took = std::chrono::steady_clock::now() - t0;
  INFO(describe(r));
  CHECK(r.rc == 0);
  CHECK(took < std::chrono::seconds(10));
  pid_t bg = std::stoi(slurp(home / "bg.pid"));
  CHECK(alive(bg));
  ::kill(bg, SIGKILL);
}

namespace {

// Lets the first `n` writes of the host record through, then fails every
// later one as a full disk would (ENOSPC); cleared whatever the test does.
struct RecordFailsAfter {
  explicit RecordFailsAfter(int n) {
    auto left = std::make_shared<int>(n);
    set_host_record_write_fault_for_tests([left](const HostRecord&) -> std::optional<int> {
      if (*left > 0) {
        --*left;
        return std::nullopt;
      }
      return ENOSPC;
    });
  }
  ~RecordFailsAfter() { set_host_record_write_fault_for_tests(nullptr); }
};

}  // namespace

TEST_CASE("a step whose intent cannot be recorded is not run, but the stopped service is started again",
          "[switch][issue11]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string v1 = vname(1), v2 = vname(2);
  deploy(home, v1);
  make_ready(home, v2);
  json steps = json::array({shell_step(home, "stop", "true", "stop"), op_step("upgrade-to", v2),
                            shell_step(home, "start", "true", "start")});
  CliResult r;
  {
    // The start record, the stop's intent and its outcome; then the disk is full.
    RecordFailsAfter full(3);
    r = run_switch(home, request(v2, "switch", v1, v2, steps));
  }
  INFO(describe(r));
  CHECK(r.rc == 1);
  auto rs = replies(r.out);
  REQUIRE(rs.size() == 6);  // stop running + done, upgrade-to skipped, start running + done, done
  CHECK(rs[2]["name"] == "upgrade-to");
  CHECK(rs[2]["skipped"] == true);
  CHECK_THAT(rs[2]["error"].get<std::string>(), Catch::Contains("its intent could not be recorded"));
  CHECK(rs[4]["name"] == "start");
  CHECK(rs[4]["ok"] == true);
  CHECK_THAT(rs[4]["output"].get<std::string>(), Catch::Contains("could not take its intent"));
  CHECK(rs[5]["txn"] == "done");
  CHECK(rs[5]["ok"] == false);
  CHECK(rs[5]["begun"] == 3);
  CHECK(rs[5]["skipped"] == json::array({1}));
  CHECK_THAT(rs[5]["unrecorded"].get<std::string>(), Catch::Contains("No space left on device"));
  // Not switched, and running again.
  CHECK(link_of(home / "deploy/live") == v1);
  CHECK(slurp(home / "service.log") == "stop\nstart\n");
  // The record holds what it could: the stop's intent and outcome.
  json st = status_of(home);
  CHECK(st["run"]["steps"][0]["state"] == "ok");
  CHECK(st["service_stopped"] == true);
}

TEST_CASE("an undo on a host whose record cannot be written only starts the service the record says is stopped",
          "[switch][issue11]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string v1 = vname(1), v2 = vname(2);
  deploy(home, v1);
  make_ready(home, v2);
  // A switch that stopped the service, switched, and failed to start it.
  json sw = json::array({shell_step(home, "stop", "true", "stop"), op_step("upgrade-to", v2),
                         shell_step(home, "start", "false", "start")});
  CHECK(run_switch(home, request(v2, "switch", v1, v2, sw)).rc == 1);
  CHECK(status_of(home)["service_stopped"] == true);
  json undo = json::array({shell_step(home, "stop", "true", "stop", /*tolerate=*/true), op_step("rollback-to", v1),
                           shell_step(home, "start", "true", "start")});
  undo[1]["effect"] = "switch";
  CliResult r;
  {
    RecordFailsAfter full(0);
    r = run_switch(home, request(v2, "undo", v1, v2, undo));
  }
  INFO(describe(r));
  CHECK(r.rc == 1);
  auto rs = replies(r.out);
  REQUIRE(rs.size() == 5);  // stop skipped, rollback-to skipped, start running + done, done
  CHECK(rs[0]["skipped"] == true);
  CHECK(rs[1]["skipped"] == true);
  CHECK(rs[3]["ok"] == true);
  CHECK(rs[4]["skipped"] == json::array({0, 1}));
  CHECK(link_of(home / "deploy/live") == v2);  // not switched back: nothing recorded it
  CHECK(slurp(home / "service.log") == "stop\nstart\n");

  // With the record saying the service runs, nothing runs at all.
  HostRecord rec = *read_host_record(Layout(home));
  rec.service_stopped = false;
  write_host_record(Layout(home), rec);
  json again = json::array({shell_step(home, "stop", "true", "stop"), op_step("rollback-to", v1),
                            shell_step(home, "start", "true", "start")});
  {
    RecordFailsAfter full(0);
    r = run_switch(home, request(v2, "undo", v1, v2, again));
  }
  CHECK(r.rc == 1);
  CHECK(link_of(home / "deploy/live") == v2);
  CHECK(slurp(home / "service.log") == "stop\nstart\n");
}

TEST_CASE("a switch the log cannot record is refused and the stopped service is started again", "[switch][issue11]") {
  TempDir t;
  const auto home = init_home(t);
  const std::string v1 = vname(1), v2 = vname(2);
  deploy(home, v1);
  make_ready(home, v2);
  const fs::path log = home / "deploy/.plugbox/log";
  // The stop runs, then the log becomes a directory: upgrade-to is refused.
  json steps = json::array({shell_step(home, "stop", "mv " + log.string() + " " + (t.path() / "log").string() +
                                                        " && mkdir " + log.string(), "stop"),
                            op_step("upgrade-to", v2), shell_step(home, "start", "true", "start")});
  CliResult r = run_switch(home, request(v2, "switch", v1, v2, steps));
  INFO(describe(r));
  CHECK(r.rc == 1);
  auto rs = replies(r.out);
  REQUIRE(rs.size() == 7);
  CHECK(rs[3]["ok"] == false);
  CHECK_THAT(rs[3]["error"].get<std::string>(), Catch::Contains("so nothing was changed"));
  CHECK(rs[5]["name"] == "start");
  CHECK(rs[5]["ok"] == true);
  CHECK(rs[6]["failed"] == 1);
  CHECK(rs[6]["begun"] == 3);
  CHECK(link_of(home / "deploy/live") == v1);
  CHECK(slurp(home / "service.log") == "stop\nstart\n");
  json st = status_of(home);
  CHECK(st["run"]["state"] == "failed");
  CHECK(st["service_stopped"] == false);
}
