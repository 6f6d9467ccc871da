// The fleet commands besides deploy: rollback, gc and status. Each connects
// to the selected hosts at once (bounded by `parallel`), works under the same
// per-host pieces as deploy (HostConn: session, lock, journaled commands) and
// reports where every host stands.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "orchestrator/deploy_run.h"
#include "orchestrator/journal.h"
#include "orchestrator/planner.h"
#include "orchestrator/reporter.h"
#include "transport/transport.h"

namespace plugbox::orchestrator {

struct FleetContext {
  transport::Transport& transport;
  const std::vector<PlannedHost>& hosts;
  Reporter& reporter;
  Journal& journal;
  int parallel = 50;
  double timeout = 300;  // per command
  // Set by the first Ctrl-C: hosts not yet begun are left alone; a host whose
  // stop/rollback-to/start has begun is finished. The result is then 130.
  std::shared_ptr<bool> interrupted;
  bool stop_requested() const { return interrupted && *interrupted; }
};

struct RollbackOptions {
  std::optional<std::string> from;  // --from V; default: the newest version live on any selected host
  bool dry_run = false;
  // The service's stop/start lines (empty when no service file: links only).
  std::vector<std::string> stop, start;
  std::string service;
};

// Hosts whose live version is V go back to their previous: stop, rollback-to,
// start (never refresh). Exit 0 when all of them are back (or nothing is
// live: nothing to do), 2 when --from names a version no reachable host has
// live (nothing touched), 3 when a host could not be put back or reached, 130
// when interrupted (3 if that left a host half-way).
transport::Awaitable<DeployOutcome> fleet_rollback(FleetContext ctx, RollbackOptions opts);

// `plugbox-server gc --keep N` on every host (with --dry-run: what it would remove).
transport::Awaitable<DeployOutcome> fleet_gc(FleetContext ctx, int keep, bool dry_run);

struct HostStatusRow {
  std::string host;
  bool reachable = false;
  std::string live, previous, lock, error;
  std::vector<std::string> versions;  // newest first, "name (state)"
  nlohmann::json raw;                 // the host's status JSON
};
transport::Awaitable<std::vector<HostStatusRow>> fleet_status(FleetContext ctx);
std::string render_status_table(const std::vector<HostStatusRow>& rows);
nlohmann::json status_rows_json(const std::vector<HostStatusRow>& rows);

// The end-of-run table: host | live | state | error.
std::string render_standings(const DeployOutcome& o);


}  // namespace plugbox::orchestrator
