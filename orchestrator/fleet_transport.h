// The transport a fleet command uses: targets go to the local transport or to
// the SSH transport by their kind (an inventory may mix them), all on one
// io_context. For local hosts the home directory plays the machine, so it is
// created when missing.
#pragma once

#include <memory>
#include <optional>

#include "transport/transport.h"

namespace plugbox::orchestrator {

class FleetTransport : public transport::Transport {
 public:
  // Drops the shared jump host connections. They outlive the sessions through
  // them (keepalives and all), so a command that is done must call this, or
  // its event loop never runs out of work and plugbox never exits.
  virtual void close_all() = 0;
};

// `host_sessions`: each host's steps run over one `plugbox-server session`;
// otherwise one exec per step, as before the session protocol.
std::unique_ptr<FleetTransport> make_fleet_transport(transport::Executor ex, bool host_sessions);

// PLUGBOX_SESSION, the operator's switch for the above: unset, "" or "on"
// is true, "off" false (a host whose sshd cannot keep a command running for
// the whole run; comparing the two in bench/redeploy); anything else is
// nullopt, bad input rather than a guess.
std::optional<bool> parse_session_setting(const char* value);

}  // namespace plugbox::orchestrator
