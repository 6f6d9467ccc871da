// `plugbox fleet gc`: `plugbox-server gc --keep N` on every selected host
// (with --dry-run: what it would remove).
#pragma once

#include "orchestrator/fleet_context.h"
#include "orchestrator/run_outcome.h"

namespace plugbox::orchestrator {

transport::Awaitable<RunOutcome> fleet_gc(FleetContext ctx, int keep, bool dry_run);

}  // namespace plugbox::orchestrator
