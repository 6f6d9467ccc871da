// orchestrator/local_hooks.h: the hooks' environment as values, and run_hook
// running real shell lines: success, a failure, a hang killed with what it
// left in the background, the output kept off stdout.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "orchestrator/local_hooks.h"

using namespace plugbox::orchestrator;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/plugbox-hooks-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("hooks: the environment names the run") {
  HookEnv e{"shop", "2026-12-07T10:00:00", "2026-12-01T00:00:00", "web1 web2", "ok", "deployed to 2 of 2 host(s)",
            "/state/runs/x"};
  CHECK(hook_environment(e) == std::vector<std::pair<std::string, std::string>>{
                                   {"PLUGBOX_SERVICE", "shop"},
                                   {"PLUGBOX_VERSION", "2026-12-07T10:00:00"},
                                   {"PLUGBOX_PREVIOUS", "2026-12-01T00:00:00"},
                                   {"PLUGBOX_HOSTS", "web1 web2"},
                                   {"PLUGBOX_RESULT", "ok"},
                                   {"PLUGBOX_SUMMARY", "deployed to 2 of 2 host(s)"},
                                   {"PLUGBOX_JOURNAL", "/state/runs/x"}});
  CHECK(host_list({"web1", "web2", "web1"}) == "web1 web2");
  CHECK(result_word(ExitStatus::incomplete) == "incomplete");

  RunOutcome o;
  o.exit = ExitStatus::failed;
  o.summary = "rolled back";
  o.hosts.resize(3);
  o.hosts[0].host = "a", o.hosts[0].live_before = "V1", o.hosts[0].live = "V1";
  o.hosts[1].host = "b", o.hosts[1].live_before = "V0", o.hosts[1].live = "V0";
  o.hosts[2].host = "c", o.hosts[2].live_before = "", o.hosts[2].live = "V2";
  ServiceConfig svc;
  svc.name = "shop";
  auto d = hook_env_after(svc, "V2", o, "/j");
  CHECK(d.version == "V2");
  CHECK(d.previous == "V1 V0");
  CHECK(d.hosts == "a b c");
  CHECK(d.result == "failed");
  CHECK(d.summary == "rolled back");
  CHECK(d.journal == "/j");
  CHECK(hook_env_after(svc, "", o, "/j").version == "V1 V0 V2");  // a rollback: where the hosts are now
}

TEST_CASE("hooks: a line runs in the source tree with the environment set") {
  TempDir d;
  HookEnv e{"shop", "V2", "V1", "web1", "ok", "all good", "/j"};
  auto r = run_hook("after_deploy", "pwd > out; env | grep ^PLUGBOX_ | sort >> out", e, d.path, 10);
  CHECK(r.ok);
  CHECK(r.error.empty());
  CHECK(slurp(d.path / "out") == d.path.string() +
                                     "\nPLUGBOX_HOSTS=web1\nPLUGBOX_JOURNAL=/j\nPLUGBOX_PREVIOUS=V1\nPLUGBOX_RESULT=ok\n"
                                     "PLUGBOX_SERVICE=shop\nPLUGBOX_SUMMARY=all good\nPLUGBOX_VERSION=V2\n");
}

TEST_CASE("hooks: a failure is one line naming the hook, its line and its status") {
  TempDir d;
  auto r = run_hook("before_deploy", "exit 3", HookEnv{}, d.path, 10);
  CHECK_FALSE(r.ok);
  CHECK_FALSE(r.interrupted);
  CHECK(r.error == "hook before_deploy (`exit 3`) exited 3");
}

TEST_CASE("hooks: one that hangs is killed at its timeout, with what it started in the background") {
  TempDir d;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run_hook("before_deploy", "sleep 60 & echo $! > bg; sleep 60", HookEnv{}, d.path, 0.5);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK_FALSE(r.ok);
  CHECK(r.error == "hook before_deploy (`sleep 60 & echo $! > bg; sleep 60`) timed out after 0.5 s (its process "
                   "group was killed)");
  CHECK(took < 10);  // not the hook's own 60 s
  const pid_t bg = std::stoi(slurp(d.path / "bg"));
  // Gone (reaped by init), or at most a zombie on its way.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(bg) + "/stat");
    std::string s;
    std::getline(stat, s);
    gone = !stat || s.find(") Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(gone);
}
