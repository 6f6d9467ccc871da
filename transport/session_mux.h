// A Session whose commands all run over one exec of `plugbox-server session`
// on another Session (the session protocol: base/session_protocol.h,
// docs/SESSION.md). A fleet command opens one per host, so that its many
// steps cost the host one SSH channel and one login shell, not one each.
//
// It keeps transport.h's semantics: each exec's output arrives as it is
// written, streamed stdin has backpressure (through the channel's window),
// a deadline sends SIGTERM to the command's process group, then SIGKILL
// after the kill grace, and the result carries std::errc::timed_out; a
// cancelled transport ends running commands with operation_canceled (its
// SIGTERM to the session reaches them all); a closed session or a lost
// connection ends them with the underlying channel's error.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "transport/transport.h"

namespace plugbox::transport {

class SessionMux : public Session {
 public:
  struct Started {
    std::shared_ptr<SessionMux> session;  // null when error is set
    Error error;
  };
  // Runs `command` (the host's `plugbox-server ... session`) on `base` and
  // waits for its hello until `deadline`. Fails when the host's server does
  // not speak the session protocol (an older one, or none), or another
  // version of it: the caller may then run its commands on `base` itself.
  // `transport` is asked whether a command that ended was cancelled.
  // `expect_server`, when set, is the only hello "server" accepted (plugbox's
  // own per-version server, which must be exactly this build's); any other
  // fails the start like a missing server does.
  // (An overload, not a default argument: g++ 12 destroys a default
  // argument's temporary twice in a co_await expression.)
  static Awaitable<Started> start(std::shared_ptr<Session> base, Command command, Deadline deadline,
                                  const Transport& transport, std::chrono::milliseconds kill_grace,
                                  std::string expect_server);
  static Awaitable<Started> start(std::shared_ptr<Session> base, Command command, Deadline deadline,
                                  const Transport& transport,
                                  std::chrono::milliseconds kill_grace = std::chrono::milliseconds(2000));

  ~SessionMux() override;
  const std::string& name() const override;
  Awaitable<ExecResult> exec(Command command, ExecOptions options = {}) override;
  // Ends the session: its frames stop and the base session is closed. The
  // host's server then reads EOF (sshd) or gets SIGTERM (the local
  // transport's close), and what still runs under it gets EOF and EPIPE, or
  // SIGTERM: as a command on a closed channel of its own would. A fleet
  // command closes it only once its last request (the lock) has ended.
  void close() override;
  // The hello's "server": "plugbox-server 0.1.0 (commit ...)".
  const std::string& server() const;
  // The hello's "upload": the newest upload protocol the server speaks (1
  // when it does not say: servers older than protocol 2).
  unsigned upload_protocol() const;

  struct State;
  explicit SessionMux(std::shared_ptr<State> st);  // use start()

 private:
  std::shared_ptr<State> st_;
};

}  // namespace plugbox::transport
