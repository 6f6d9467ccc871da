// The service's [hooks] (orchestrator/local_hooks.h), end to end: the real
// plugbox over local hosts. A failing or hanging before_deploy stops the
// deploy with nothing touched; the others see the run in their environment
// and never change its result.
#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "tests/orchestrator/e2e_scenarios.h"

using namespace plugbox::e2e;

namespace {

// plugbox.toml with `hooks` as its [hooks] table (and `deploy`, if given, as
// its [deploy] table).
void with_hooks(E2eFleet& f, const std::string& hooks, const std::string& deploy = "") {
  f.write_service(deploy);
  write_file(f.service_file(), slurp(f.service_file()) + "\n[hooks]\n" + hooks);
}

// What a hook wrote with `env | grep ^PLUGBOX_ > FILE`, by name.
std::map<std::string, std::string> env_file(const fs::path& p) {
  std::map<std::string, std::string> out;
  std::istringstream in(slurp(p));
  for (std::string line; std::getline(in, line);)
    if (auto eq = line.find('='); eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  return out;
}

const char* kDump = "env | grep ^PLUGBOX_ > ";

}  // namespace

TEST_CASE("hooks e2e: a failing before_deploy stops the deploy before anything is prepared or sent", "[e2e]") {
  auto f = E2eFleet::local(2);
  const std::string r1 = deploy_release(*f, {"r1"});
  with_hooks(*f, std::string("before_deploy = \"") + kDump + "before.env; echo frozen >&2; exit 4\"\n");
  f->write_release({"r2"});
  const Snapshot before = f->snapshot_all();
  REQUIRE(before.count("[test] src"));
  RunResult r = f->plugbox({"fleet", "deploy", "--group", "app"});
  INFO(r.describe());
  CHECK(r.rc == 1);
  CHECK_THAT(r.err, Catch::Contains("frozen\n"));
  CHECK_THAT(r.err, Catch::Contains("plugbox: hook before_deploy (`env | grep ^PLUGBOX_ > before.env; echo frozen >&2; "
                                    "exit 4`) exited 4; the deploy stopped before anything was prepared or sent"));
  CHECK_THAT(r.err, !Catch::Contains("prepare:"));
  for (const auto& h : f->names()) CHECK(f->home_of(h).live == r1);
  auto env = env_file(f->service_dir() / "before.env");
  CHECK(env["PLUGBOX_SERVICE"] == "e2e");
  CHECK(env["PLUGBOX_HOSTS"] == "h1 h2");
  CHECK_FALSE(env["PLUGBOX_VERSION"].empty());
  CHECK(env["PLUGBOX_RESULT"].empty());
  // Nothing but the hook's own file changed, here or on any host (and the
  // source directory's mtime with it).
  fs::remove(f->service_dir() / "before.env");
  Snapshot after = f->snapshot_all(), was = before;
  after.erase("[test] src");
  was.erase("[test] src");
  const auto diff = snapshot_diff(was, after);
  INFO(diff);
  CHECK(diff.empty());
}

TEST_CASE("hooks e2e: a before_deploy that hangs is killed at the command timeout, nothing is touched", "[e2e]") {
  auto f = E2eFleet::local(2);
  std::string deploy = E2eFleet::default_deploy_table();
  deploy.replace(deploy.find("command_timeout = 90"), 20, "command_timeout = 1");
  with_hooks(*f, "before_deploy = \"sleep 60\"\n", deploy);
  RunResult r = f->plugbox({"fleet", "deploy", "--group", "app"});
  INFO(r.describe());
  CHECK(r.rc == 1);
  CHECK_THAT(r.err, Catch::Contains("hook before_deploy (`sleep 60`) timed out after 1 s (its process group was killed); "
                                    "the deploy stopped before anything was prepared or sent"));
  for (const auto& h : f->names()) CHECK_FALSE(f->home_of(h).exists);
}

TEST_CASE("hooks e2e: after_deploy, on_failure and after_rollback see the run, their failures change nothing", "[e2e]") {
  auto f = E2eFleet::local(3);
  with_hooks(*f, std::string("after_deploy = \"") + kDump + "after.env; exit 7\"\n" + "on_failure = \"" + kDump +
                     "failure.env\"\n" + "after_rollback = \"" + kDump + "rollback.env\"\n");
  // A deploy that succeeds: after_deploy (whose exit 7 is only reported).
  Deployed d1 = deploy(*f);
  INFO(d1.run.describe());
  CHECK(d1.run.rc == 0);
  CHECK_THAT(d1.run.err, Catch::Contains("plugbox: hook after_deploy (`env | grep ^PLUGBOX_ > after.env; exit 7`) "
                                         "exited 7; the run's result stands"));
  auto after = env_file(f->service_dir() / "after.env");
  CHECK(after["PLUGBOX_VERSION"] == d1.version);
  CHECK(after["PLUGBOX_PREVIOUS"].empty());  // a first deploy
  CHECK(after["PLUGBOX_HOSTS"] == "h1 h2 h3");
  CHECK(after["PLUGBOX_RESULT"] == "ok");
  CHECK_THAT(after["PLUGBOX_SUMMARY"], Catch::StartsWith("deployed " + d1.version));
  CHECK(after["PLUGBOX_JOURNAL"] == (f->runs_dir() / d1.version).string());
  CHECK_FALSE(fs::exists(f->service_dir() / "failure.env"));

  // A deploy whose last batch fails its health check: on_failure, not after_deploy.
  fs::remove(f->service_dir() / "after.env");
  f->mark("h3", "FAIL_HEALTH");
  f->write_release({"r2"});
  Deployed d2 = deploy(*f);
  INFO(d2.run.describe());
  CHECK(d2.run.rc == 1);
  CHECK_FALSE(fs::exists(f->service_dir() / "after.env"));
  auto failure = env_file(f->service_dir() / "failure.env");
  CHECK(failure["PLUGBOX_VERSION"] == d2.version);
  CHECK(failure["PLUGBOX_PREVIOUS"] == d1.version);
  CHECK(failure["PLUGBOX_RESULT"] == "failed");
  for (const auto& h : f->names()) CHECK(f->home_of(h).live == d1.version);  // the fleet was put back

  // A rollback: after_rollback, with where the hosts are now.
  f->unmark("h3", "FAIL_HEALTH");
  fs::remove(f->service_dir() / "failure.env");
  f->write_release({"r3"});
  Deployed d3 = deploy(*f);
  REQUIRE(d3.run.rc == 0);
  RunResult rb = f->plugbox({"fleet", "rollback", "--group", "app"});
  INFO(rb.describe());
  CHECK(rb.rc == 0);
  auto back = env_file(f->service_dir() / "rollback.env");
  CHECK(back["PLUGBOX_VERSION"] == d1.version);
  CHECK(back["PLUGBOX_PREVIOUS"] == d3.version);
  CHECK(back["PLUGBOX_RESULT"] == "ok");
  CHECK_FALSE(fs::exists(f->service_dir() / "failure.env"));
  // The hooks' records follow the run's end in its journal; the rollback
  // still found the deploy it undid (Journal::newest_deploy skips them).
  bool hook_recorded = false;
  for (const auto& line : lines_of(f->runs_dir() / d3.version / "deploy.jsonl"))
    hook_recorded |= nlohmann::json::parse(line).value("event", "") == "hook";
  CHECK(hook_recorded);
}
