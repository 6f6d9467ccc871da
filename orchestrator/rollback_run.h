// `plugbox fleet rollback`. Without --from it undoes the last run that
// changed these hosts, as the hosts' own records tell it (docs/DESIGN.md §5):
// every host that run switched (or began to switch) goes back to the version
// it had before the run, and is started; hosts it did not touch, and hosts
// where it was already undone, are left alone. With --from V, every host
// whose live version is V goes back to its previous. Either way each host's
// steps (stop, rollback-to, start; never refresh) run there as one
// transaction.
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
  // The newest deploy run this machine's journals know of (Journal::newest_deploy):
  // one killed before it touched any host, or refused on every host before
  // their records could say so, is the last run all the same, and undoing it
  // changes nothing, where the hosts alone would name the run before.
  std::string local_run;
};

// The exit status comes from the hosts' states (host_state.h), except that
// --from naming a version no reachable host has live is bad input (2,
// nothing touched). `service` supplies the stop/start lines; without a
// service file it has none and only the links move.
transport::Awaitable<RunOutcome> fleet_rollback(FleetContext ctx, const ServiceConfig& service, RollbackOptions opts);

}  // namespace plugbox::orchestrator
