// The run's journal: every step of every host, with the command, its exit and
// its output, as JSON lines in ~/.local/state/plugbox/runs/<NAME>/<KIND>.jsonl
// ($XDG_STATE_HOME honoured). Written line by line and flushed, so a run cut
// short (kill -9 included) leaves all it did readable for `fleet rollback`.
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

 private:
  std::filesystem::path dir_;
  std::FILE* file_ = nullptr;
};

}  // namespace plugbox::orchestrator
