// What every fleet command's executor works with besides its own options:
// the transport, the planned hosts, where events and the journal go, the
// Ctrl-C flag, and the bounds on parallelism and time.
#pragma once

#include <vector>

#include "orchestrator/interrupt.h"
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
  // Raised by the first Ctrl-C: hosts not yet begun are left alone; a host
  // whose stop/rollback-to/start has begun is finished.
  const Interrupt& interrupt;
  int parallel = 50;
  double timeout = 300;         // per command
  double connect_timeout = 30;  // per host, its whole jump chain
};

}  // namespace plugbox::orchestrator
