// What a fleet command (deploy, rollback, gc) ends with: where every host
// stands, one summary line, and the exit status decided from the hosts'
// states (host_state.h). Rendered as the end-of-run table or as JSON.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "orchestrator/exit_status.h"
#include "orchestrator/host_state.h"

namespace plugbox::orchestrator {

struct HostStanding {
  std::string host;
  std::string live;         // live there now, as far as the command knows ("" = nothing/unknown)
  std::string live_before;  // live when the command started
  HostState state = HostState::unchanged;
  std::string subject;  // the version describe() names (see host_state.h)
  std::string error;    // the failure that concerned this host, if any

  std::string describe() const { return orchestrator::describe(state, subject); }
};

struct RunOutcome {
  ExitStatus exit = ExitStatus::ok;
  std::vector<HostStanding> hosts;
  std::string summary;  // one line
  std::uint64_t bytes_sent = 0;

  std::vector<HostState> states() const;
};

// The end-of-run table: HOST | LIVE | STATE[: error].
std::string render_standings(const RunOutcome& o);
// The --json result: {"event":"result","exit":..,"summary":..,"hosts":[..]}.
nlohmann::json outcome_json(const RunOutcome& o);

}  // namespace plugbox::orchestrator
