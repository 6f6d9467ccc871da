// The transport: open a host (through its jump chain), run commands on it,
// close it. Three implementations share these semantics: SSH (ssh_transport.h),
// local directories (local_transport.h) and dry-run (dry_run_transport.h).
//
// Everything runs on one io_context thread as Asio coroutines:
//
//   auto [session, err] = co_await transport.open(target, deadline_in(30s));
//   ExecOptions o;
//   o.on_stdout = [](std::string_view s) { ... };   // as the bytes arrive
//   ExecResult r = co_await session->exec(Command::argv({"uname", "-a"}), std::move(o));
//
// A session runs several execs at once (each is its own SSH channel): spawn
// them with co_spawn. Output callbacks are called from the event loop thread,
// outside any library call, so they may start other operations.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "transport/asio.h"
#include "transport/command.h"
#include "transport/deadline.h"
#include "transport/error.h"
#include "transport/target.h"

namespace plugbox::transport {

// A pull source for a command's stdin: each call yields the next chunk, and
// nullopt ends the input (the command then reads EOF). The transport calls it
// again only once the previous chunk has been handed to the connection, so a
// slow network slows the producer down (backpressure). A source may wait as
// long as it likes (StdinPipe keeps stdin open until its owner closes it); if
// the command ends first, the pending chunk is dropped.
using StdinSource = std::function<Awaitable<std::optional<std::string>>()>;

using OutputCallback = std::function<void(std::string_view)>;

struct ExecOptions {
  OutputCallback on_stdout;  // called with each piece of output as it arrives
  OutputCallback on_stderr;
  bool capture_stdout = false;  // also keep it in ExecResult::out
  bool capture_stderr = false;
  std::optional<std::string> stdin_data;  // the whole of stdin
  StdinSource stdin_source;               // or stdin streamed (wins over stdin_data)
  // Past it the command is sent SIGTERM, then SIGKILL after the transport's
  // kill grace, and the result carries std::errc::timed_out.
  Deadline deadline = kNoDeadline;
};

struct ExecResult {
  int exit_status = -1;     // -1 when there is none (killed, or an error)
  std::string exit_signal;  // "TERM", "KILL", ... when a signal ended the command
  Error error;              // empty when the command ran to its end
  std::string out, err;     // when captured

  bool ok() const { return !error && exit_status == 0; }
  // "exit 0", "exit 3", "killed by SIGTERM", or the error's message.
  std::string describe() const;
};

class Session {
 public:
  virtual ~Session() = default;
  virtual const std::string& name() const = 0;
  // Runs `command` in the host's login directory (see Command::cwd).
  virtual Awaitable<ExecResult> exec(Command command, ExecOptions options = {}) = 0;
  // Ends the session now: running execs end with Errc::session_closed.
  virtual void close() = 0;
};

struct OpenResult {
  std::shared_ptr<Session> session;  // null when error is set
  Error error;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Opens a session to the target. The deadline covers the whole chain;
  // kNoDeadline means the transport's default connect timeout.
  virtual Awaitable<OpenResult> open(Target target, Deadline deadline = kNoDeadline) = 0;
  // Cancels everything, now and later: pending opens and running execs end
  // with std::errc::operation_canceled (running commands are sent SIGTERM).
  virtual void cancel() = 0;
  virtual bool cancelled() const = 0;
  // Whether a fleet command should run all of a host's steps over one
  // `plugbox-server session` on a session of this transport (SessionMux,
  // docs/SESSION.md) rather than one exec each. The real transports say yes;
  // the scripted one answers each command by itself, so it says no.
  virtual bool host_sessions() const { return false; }
};

}  // namespace plugbox::transport
