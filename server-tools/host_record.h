// The host's own record of the last run that changed it
// (deploy/.plugbox/host.json), so that the host, not the client's memory,
// says where it stands: which run switched it from what to what, each step's
// outcome, and whether its service was left stopped. Written atomically
// (temporary file, fsync, rename, fsync of the directory) before each step of
// a switch (the intent) and after it (the outcome).
//
// Schema (stable; "schema" changes only with an incompatible change):
// {"schema": 1,
//  "run": "2026-11-25T21:40:00",     // the run id: a deploy's version, or a rollback's own id
//  "kind": "deploy" | "rollback",
//  "owner": "plugbox-alice@laptop-...",
//  "from": "2026-11-24T10:00:00" | null,  // live before the run first changed this host
//  "to": "2026-11-25T21:40:00",           // what the run switched it to
//  "state": "staged"      // a deploy staged `to` here, nothing switched yet
//         | "switching"   // a switch transaction is (or was, if interrupted) under way
//         | "switched"    // the switch finished: `to` live and started
//         | "failed"      // the switch stopped at a failing step (see steps)
//         | "undoing" | "undone" | "undo_failed",   // the run's own undo
//  "txn": "switch" | "undo" | null,       // the last transaction of the run
//  "steps": [{"name": "stop", "state": "pending"|"running"|"ok"|"failed", "exit": 0, "error": "..."}],
//  "service_stopped": false,              // a stop ran and no start after it succeeded
//  "updated": "2026-11-25T21:40:03Z"}
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "server-tools/layout.h"

namespace plugbox::server {

struct HostRecord {
  struct StepState {
    std::string name;
    std::string state = "pending";
    int exit = -1;
    std::string error;
  };
  std::string run, kind, owner, from, to;
  std::string state;
  std::string txn;
  std::vector<StepState> steps;
  bool service_stopped = false;
  std::string updated;

  nlohmann::json to_json() const;
  static HostRecord from_json(const nlohmann::json& j);
};

// nullopt when no run ever changed the host (or the file is unreadable:
// `problem` then says why).
std::optional<HostRecord> read_host_record(const Layout& layout, std::string* problem = nullptr);
// Stamps `updated` and replaces the file atomically. Throws ServerError
// naming the file when it cannot (a full disk).
void write_host_record(const Layout& layout, HostRecord record);

// For tests: when set, every write first asks it; a returned errno makes that
// write fail as a full disk would (nothing is written).
void set_host_record_write_fault_for_tests(std::function<std::optional<int>(const HostRecord&)> fault);

}  // namespace plugbox::server
