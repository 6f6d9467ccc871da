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
//
// A second hook, for faults instead of kills: PLUGBOX_TEST_FAULT_AT=N with
// PLUGBOX_TEST_FAULT_CMD=LINE runs LINE (/bin/sh -c, synchronously, its
// output to plugbox's stderr) right after the Nth record has been written and
// flushed, and the run carries on. A test makes the hosts' disks full or their
// logs unwritable at every boundary in turn (the chaos test's fault variants).
// Both must be set; the hooks are independent of each other.
#pragma once

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace plugbox::orchestrator {

class JournalTaken : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Journal {
 public:
  Journal() = default;  // a journal that records nothing (dry-run, tests)
  // Creates the run directory and the journal, which must be new: two runs
  // never share one (fresh_run_name picks a free name, but two runs started
  // in the same second from two shells both saw it free; the later to open
  // it gets JournalTaken). Throws std::runtime_error naming the path on any
  // other failure.
  static Journal open(const std::string& kind, const std::string& run_name);
  ~Journal();
  Journal(Journal&&) noexcept;
  Journal& operator=(Journal&&) noexcept;

  void record(nlohmann::json event);
  // The run's last record, {"event":"end", exit, summary}: a journal without
  // one was cut short (newest_deploy reads it so).
  void record_end(int exit, const std::string& summary) {
    record({{"event", "end"}, {"exit", exit}, {"summary", summary}});
  }
  const std::filesystem::path& dir() const { return dir_; }
  bool enabled() const { return file_ != nullptr; }

  static std::filesystem::path state_root();
  // The newest deploy of `service` this machine's journals know of (its
  // version), or "": one whose journal has no end (a run killed before it
  // touched any host is known only here), or one that ended and worked on
  // one of `hosts` (a deploy refused on every host before their records could
  // say so, by an unwritable log or a full disk, is known only here too; one
  // that only looked at a host, or was refused there by a lock another run
  // held, never worked there).
  static std::string newest_deploy(const std::string& service, const std::vector<std::string>& hosts);

 private:
  std::filesystem::path dir_;
  std::FILE* file_ = nullptr;
  long kill_at_ = 0;   // the test hook's N (0: off)
  long fault_at_ = 0;  // the fault hook's N (0: off)
  std::string fault_cmd_;
  long written_ = 0;   // records written so far
};

}  // namespace plugbox::orchestrator
