// The one way a command runs its work: a coroutine on a fresh io_context,
// with SIGINT/SIGTERM wired up. The first signal raises the Interrupt (and
// calls on_interrupt), so nothing new starts and what was begun is finished
// or put back; a second one cancels the transport outright.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>

#include "orchestrator/fleet_transport.h"
#include "orchestrator/interrupt.h"

namespace plugbox::orchestrator {

// Runs `task` to its end. An exception from it is rethrown here. Once it is
// done the shared jump host connections are closed (they would keep the loop
// running forever) and what closing work is left gets a moment.
void run_loop(boost::asio::io_context& io, FleetTransport& transport, Interrupt& interrupt,
              std::function<transport::Awaitable<void>()> task, std::function<void()> on_interrupt = {});

}  // namespace plugbox::orchestrator
