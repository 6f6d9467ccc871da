#include "orchestrator/run_identity.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/journal.h"
#include "orchestrator/planner.h"

namespace fs = std::filesystem;

namespace {

// XDG_STATE_HOME pointed at a fresh directory for the test's length.
class StateHome {
 public:
  StateHome() {
    char tmpl[] = "/tmp/pbx-state-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    if (const char* old = std::getenv("XDG_STATE_HOME")) old_ = old;
    ::setenv("XDG_STATE_HOME", dir_.c_str(), 1);
  }
  ~StateHome() {
    if (old_) ::setenv("XDG_STATE_HOME", old_->c_str(), 1);
    else ::unsetenv("XDG_STATE_HOME");
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // What Journal::open leaves: runs/NAME/KIND.jsonl.
  void journal(const std::string& name, const std::string& kind) const {
    const fs::path d = plugbox::orchestrator::Journal::state_root() / "runs" / name;
    fs::create_directories(d);
    std::ofstream(d / (kind + ".jsonl")) << "{}\n";
  }
  // A journal with these lines, one JSON record each.
  void journal(const std::string& name, const std::string& kind, const std::vector<std::string>& lines) const {
    const fs::path d = plugbox::orchestrator::Journal::state_root() / "runs" / name;
    fs::create_directories(d);
    std::ofstream out(d / (kind + ".jsonl"));
    for (const auto& l : lines) out << l << "\n";
  }

 private:
  std::string dir_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("a run's name is a new second for its kind: two runs in a row never share a journal") {
  StateHome home;
  for (const std::string kind : {"deploy", "rollback", "gc"}) {
    INFO(kind);
    const std::string first = plugbox::cli::fresh_run_name(kind);
    CHECK(plugbox::orchestrator::is_version_name(first));
    home.journal(first, kind);
    const std::string second = plugbox::cli::fresh_run_name(kind);
    CHECK(second > first);
    CHECK(plugbox::orchestrator::is_version_name(second));
  }
}

TEST_CASE("two runs that picked the same name in the same second never share its journal: the later is refused") {
  using plugbox::orchestrator::Journal;
  StateHome home;
  const std::string name = plugbox::cli::fresh_run_name("deploy");  // both saw it free
  Journal first = Journal::open("deploy", name);
  first.record({{"event", "plan"}, {"service", "app"}});
  CHECK_THROWS_AS(Journal::open("deploy", name), plugbox::orchestrator::JournalTaken);
  std::ifstream in(first.dir() / "deploy.jsonl");
  std::string line;
  REQUIRE(std::getline(in, line));
  CHECK(line.find("\"plan\"") != std::string::npos);
  CHECK_FALSE(std::getline(in, line));  // the refused one wrote nothing
  // Another kind of run may share the second: its journal is its own file.
  CHECK_NOTHROW(Journal::open("gc", name));
}

TEST_CASE("newest_deploy: the newest deploy of the service that is unfinished or got past a host's lock") {
  using plugbox::orchestrator::Journal;
  StateHome home;
  const std::vector<std::string> web1{"web1"}, web2{"web2"}, both{"web1", "web2"};
  CHECK(Journal::newest_deploy("app", both).empty());  // no runs directory at all

  const std::string plan = R"({"event":"plan","service":"app"})";
  const std::string end = R"({"event":"end","rc":0})";
  // Ended, and worked on web1 only.
  home.journal("2026-01-01T00:00:01", "deploy",
               {plan, R"({"host":"web1","step":"upload","command":"plugbox-server receive"})", end});
  CHECK(Journal::newest_deploy("app", web1) == "2026-01-01T00:00:01");
  CHECK(Journal::newest_deploy("app", both) == "2026-01-01T00:00:01");
  CHECK(Journal::newest_deploy("app", web2).empty());  // another group's deploy is not web2's
  CHECK(Journal::newest_deploy("other", web1).empty());

  // Newer, ended, and refused on web2 past its lock (an unwritable log)
  // before any host record could say so: known only here, and web2's last run.
  home.journal("2026-01-01T00:00:02", "deploy",
               {plan, R"({"host":"web2","step":"upload","refused":"upload: cannot record receive"})", end});
  CHECK(Journal::newest_deploy("app", web2) == "2026-01-01T00:00:02");
  CHECK(Journal::newest_deploy("app", web1) == "2026-01-01T00:00:01");
  CHECK(Journal::newest_deploy("app", both) == "2026-01-01T00:00:02");

  // Newer, ended, but refused on both by another deploy's lock: it never
  // worked there, so the runs before it stay the newest.
  home.journal("2026-01-01T00:00:03", "deploy",
               {plan, R"({"host":"web1","step":"connect","via":"local"})",
                R"({"host":"web1","step":"init","command":"init"})",
                R"({"host":"web1","step":"status","command":"status --json"})",
                R"({"host":"web1","step":"lock","command":"lock"})",
                R"({"host":"web1","step":"lock","error":"lock: plugbox-server lock: the deploy lock is held by owner 'x'"})",
                R"({"event":"stage","host":"web1","level":"fail","message":"lock: held by another"})",
                R"({"host":"web2","step":"init","command":"init"})",
                R"({"host":"web2","step":"lock","error":"lock: plugbox-server lock: the deploy lock is held by owner 'x'"})", end});
  CHECK(Journal::newest_deploy("app", web1) == "2026-01-01T00:00:01");
  CHECK(Journal::newest_deploy("app", web2) == "2026-01-01T00:00:02");

  // Not one that only looked at the hosts before it stopped for another
  // host's sake (that host unreachable).
  home.journal("2026-01-01T00:00:03b", "deploy",
               {plan, R"({"host":"web1","step":"connect","via":"ssh"})",
                R"({"host":"web1","step":"init","command":"init"})",
                R"({"host":"web1","step":"init","exit":0,"stdout":"","stderr":""})",
                R"({"host":"web1","step":"status","command":"status --json"})",
                R"({"host":"web1","step":"status","exit":0,"stdout":"{}","stderr":""})",
                R"({"host":"web2","step":"connect","error":"unreachable"})", R"({"host":"web1","step":"unlock","released":true})",
                end});
  CHECK(Journal::newest_deploy("app", web1) == "2026-01-01T00:00:01");
  CHECK(Journal::newest_deploy("app", web2) == "2026-01-01T00:00:02");

  // Newer, ended, and refused by web1 itself at init (a full disk) before
  // its lock: it worked there.
  home.journal("2026-01-01T00:00:04", "deploy",
               {plan, R"({"host":"web1","step":"init","command":"init"})",
                R"({"host":"web1","step":"init","exit":1,"stdout":"","stderr":"No space left on device"})", end});
  CHECK(Journal::newest_deploy("app", web1) == "2026-01-01T00:00:04");
  CHECK(Journal::newest_deploy("app", web2) == "2026-01-01T00:00:02");

  // Newer still, but killed before any record named a host: it may have
  // reached any of them, so it is everyone's newest.
  home.journal("2026-01-01T00:00:05", "deploy", {plan});
  CHECK(Journal::newest_deploy("app", web1) == "2026-01-01T00:00:05");
  CHECK(Journal::newest_deploy("app", web2) == "2026-01-01T00:00:05");

  // Not deploys of app: another service's, a rollback's, an unreadable plan,
  // an empty journal.
  home.journal("2026-01-01T00:00:06", "deploy", {R"({"event":"plan","service":"other"})"});
  home.journal("2026-01-01T00:00:07", "rollback", {plan});
  home.journal("2026-01-01T00:00:08", "deploy", {"{torn"});
  home.journal("2026-01-01T00:00:09", "deploy", std::vector<std::string>{});
  CHECK(Journal::newest_deploy("app", both) == "2026-01-01T00:00:05");
  CHECK(Journal::newest_deploy("other", web1) == "2026-01-01T00:00:06");
}
