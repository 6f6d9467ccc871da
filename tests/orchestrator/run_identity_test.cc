#include "orchestrator/run_identity.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

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
