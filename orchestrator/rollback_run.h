// `plugbox fleet rollback`: every selected host whose live version is V goes
// back to its previous (rollback_steps: stop, rollback-to, start; never
// refresh). V is --from, else the newest version live on any selected host.
#pragma once

#include <optional>
#include <string>

#include "orchestrator/fleet_context.h"
#include "orchestrator/run_outcome.h"
#include "orchestrator/service_config.h"

namespace plugbox::orchestrator {

struct RollbackOptions {
  std::optional<std::string> from;  // --from V
  bool dry_run = false;             // read where hosts stand, print the steps, change nothing
};

// The exit status comes from the hosts' states (host_state.h), except that
// --from naming a version no reachable host has live is bad input (2,
// nothing touched). `service` supplies the stop/start lines; without a
// service file it has none and only the links move.
transport::Awaitable<RunOutcome> fleet_rollback(FleetContext ctx, const ServiceConfig& service, RollbackOptions opts);

}  // namespace plugbox::orchestrator
