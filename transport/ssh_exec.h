// One command on one session channel of an established connection: open the
// channel, send the exec request, then move stdin in and stdout/stderr out
// until the server closes the channel, honouring the deadline (SIGTERM, then
// SIGKILL, then abandon) and cancellation.
#pragma once

#include <memory>
#include <string>

#include "transport/ssh_connection.h"
#include "transport/transport.h"

namespace plugbox::transport {

Awaitable<ExecResult> run_ssh_exec(std::shared_ptr<SshConnection> conn, std::string host, Command command,
                                   ExecOptions options);

}  // namespace plugbox::transport
