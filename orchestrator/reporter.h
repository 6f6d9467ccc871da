// Where a run's events go: one line per event (pipes, CI logs), JSON lines
// (--json), or a live progress view on a TTY. The executor only emits events;
// how they look is decided here.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace plugbox::orchestrator {

struct Event {
  enum class Level { info, ok, fail };
  std::string phase;  // "stage", "switch", "rollback", "status", ...
  std::string host;   // "" for the whole run
  std::string what;   // one line, for people
  Level level = Level::info;
  nlohmann::json data = nlohmann::json::object();  // machine-readable details
};

struct Progress {
  std::string phase;
  std::size_t done = 0, failed = 0, total = 0;
  std::uint64_t bytes_sent = 0;    // over the link: hosts' streams and the site relays' channels
  std::uint64_t bytes_fanned = 0;  // fetched by hosts from their site's relay (fan-out)
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void event(const Event& e) = 0;
  virtual void progress(const Progress&) {}
  virtual void finish() {}
};

enum class OutputMode { lines, json, tty };
// tty when stdout is a terminal and not --json.
OutputMode pick_output_mode(bool json);
std::unique_ptr<Reporter> make_reporter(OutputMode mode, std::FILE* out = stdout);

}  // namespace plugbox::orchestrator
