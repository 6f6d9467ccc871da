// The transport a fleet command uses: targets go to the local transport or to
// the SSH transport by their kind (an inventory may mix them), all on one
// io_context. For local hosts the home directory plays the machine, so it is
// created when missing.
#pragma once

#include <memory>

#include "transport/transport.h"

namespace plugbox::orchestrator {

std::unique_ptr<transport::Transport> make_fleet_transport(transport::Executor ex);

}  // namespace plugbox::orchestrator
