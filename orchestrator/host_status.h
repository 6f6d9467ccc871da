// `plugbox-server status --json` as the client reads it (the schema is
// server-tools/status.h's). A home nothing was deployed to answers too, with
// initialised false, so the client never guesses at the server's layout.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace plugbox::orchestrator {

struct HostStatus {
  bool initialised = false;  // the home has a layout (something was deployed, or init ran)
  std::string live;          // "" = nothing live
  std::string previous;      // the live version's previous, "" = none
  std::string lock_owner;    // "" = the deploy lock is free
  struct Version {
    std::string name, state;
  };
  std::vector<Version> versions;  // newest first
  // The host record (server-tools/host_record.h): the last run that changed
  // the host, as the host itself recorded it.
  struct Run {
    std::string id, kind, from, to, state;
  };
  std::optional<Run> last_run;
  bool service_stopped = false;  // a stop ran and no start succeeded after it
  std::string transaction;       // "running" | "interrupted" | "" (none under way)
  // The maintenance lock (`plugbox fleet lock`): every changing command is
  // refused while it is there. An unreadable one holds the host all the same
  // (`problem` says why; owner and message are then empty).
  struct Hold {
    std::string owner, since, message, problem;
    long long held_s = 0;
    // "alice@laptop for 2h13m: 'db migration'", or the problem.
    std::string describe() const;
    // Why a changing command is refused here, in one line with the fix, as
    // the host itself says it.
    std::string refusal() const;
  };
  std::optional<Hold> hold;
  nlohmann::json raw;             // the whole answer, for --json

  // nullopt, with *error saying why, when `text` is not a status answer.
  static std::optional<HostStatus> parse(const std::string& text, std::string* error);
};

}  // namespace plugbox::orchestrator
