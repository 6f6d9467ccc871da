// The run's journal: every step of every host, with the command, its exit and
// its output, as JSON lines in ~/.local/state/plugbox/runs/<NAME>/<KIND>.jsonl
// ($XDG_STATE_HOME honoured). Written line by line and flushed, so a run cut
// short (kill -9 included) leaves all it did readable for `fleet rollback`.
//
// Test hook: when the environment variable PLUGBOX_TEST_KILL_AT=N (a whole
// number >= 1) is set at open(), the process raises SIGKILL on itself right
// after its Nth record has been written and flushed. Each record is a step
// boundary (a command about to run, a command's result, an event), so a test
// can kill -9 plugbox at every boundary of a run in turn instead of at random
// moments (tests/orchestrator/e2e_chaos_test.cc). It costs one getenv per
// open(); unset (or not a number >= 1), nothing changes.
#pragma once

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace plugbox::orchestrator {

class Journal {
 public:
  Journal() = default;  // a journal that records nothing (dry-run, tests)
  // Creates the run directory; throws std::runtime_error naming it on failure.
  static Journal open(const std::string& kind, const std::string& run_name);
  ~Journal();
  Journal(Journal&&) noexcept;
  Journal& operator=(Journal&&) noexcept;

  void record(nlohmann::json event);
  const std::filesystem::path& dir() const { return dir_; }
  bool enabled() const { return file_ != nullptr; }

  static std::filesystem::path state_root();
  // The newest deploy of `service` whose journal on this machine has no end
  // (its version), or "": a run killed before it touched any host is known
  // only here. Runs that ended are known to the hosts they changed.
  static std::string newest_unfinished_deploy(const std::string& service);

 private:
  std::filesystem::path dir_;
  std::FILE* file_ = nullptr;
  long kill_at_ = 0;   // the test hook's N (0: off)
  long written_ = 0;   // records written so far
};

}  // namespace plugbox::orchestrator
