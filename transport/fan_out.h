// One command on many hosts at once (plugbox fleet exec): each host is opened,
// runs the command and is closed, at most `parallel` at a time, all on the
// transport's event loop. Output is handed over as it arrives, tagged with
// the host's index.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "transport/transport.h"

namespace plugbox::transport {

struct HostOutcome {
  std::string name;
  bool started = false;  // false: cancelled before its turn came
  Error error;           // the open's or the command's
  ExecResult result;

  bool ok() const { return started && !error && result.ok(); }
  // "exit 0", "exit 3", "killed by SIGTERM", "connect: Connection refused", "not started".
  std::string describe() const;
};

struct FanOutOptions {
  int parallel = 0;  // hosts at once; 0 = all
  std::chrono::milliseconds timeout{0};  // per host, open + command; 0 = the transport's default open deadline only
  std::function<void(size_t host, bool is_err, std::string_view data)> on_output;
  std::function<void(size_t host, const HostOutcome& outcome)> on_done;
  // Once it returns true no further host is started (a first Ctrl-C); the
  // ones running finish. Transport::cancel() is the hard stop.
  std::function<bool()> stop_starting;
};

Awaitable<std::vector<HostOutcome>> fan_out(Transport& transport, std::vector<Target> targets, Command command,
                                            FanOutOptions options);

}  // namespace plugbox::transport
