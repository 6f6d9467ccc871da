// The transport a fleet command uses: targets go to the local transport or to
// the SSH transport by their kind (an inventory may mix them), all on one
// io_context. For local hosts the home directory plays the machine, so it is
// created when missing.
#pragma once

#include <memory>

#include "transport/transport.h"

namespace plugbox::orchestrator {

class FleetTransport : public transport::Transport {
 public:
  // Drops the shared jump host connections. They outlive the sessions through
  // them (keepalives and all), so a command that is done must call this, or
  // its event loop never runs out of work and plugbox never exits.
  virtual void close_all() = 0;
};

// Each host's steps run over one `plugbox-server session` unless the
// environment says PLUGBOX_SESSION=off: one exec per step, as before the
// session protocol, for a host whose sshd cannot keep a command running for
// the whole run, or to compare the two (bench/redeploy).
std::unique_ptr<FleetTransport> make_fleet_transport(transport::Executor ex);

}  // namespace plugbox::orchestrator
