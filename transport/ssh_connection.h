// One libssh session (one SSH connection to one host), driven in non-blocking
// mode by the io_context: the TCP connect is done here (libssh's own calls a
// blocking getaddrinfo), or the socket is one end of a socketpair bridged to a
// direct-tcpip channel of the jump host's connection (ssh_tunnel.h). libssh
// gets the socket with SSH_OPTIONS_FD; a dup() of it is watched for readiness.
//
// Before authentication, callers drive libssh themselves (ssh_connect and
// the auth calls return SSH_AGAIN) and wait() for readiness between calls.
// Once established, every readiness event runs a "pass": ssh_event_dopoll
// until libssh has nothing left, which dispatches incoming packets to the
// channel callbacks; then channel users (tunnels) move their bytes and every
// waiting coroutine is woken to look at its channel. Output that libssh could
// not write arms a wait for writability (after_io()).
//
// Teardown order (libssh 0.10): channel users forget their channels, the
// session leaves its ssh_event, ssh_free() frees the channels and closes the
// socket libssh was given (ssh_disconnect() is not used: it would leave the
// socket for us to close, and its write may close it itself on error, so
// closing it after would risk a double close). A tunnelled connection
// releases its tunnel (a channel of the parent) after its own session is
// freed; it holds the parent, so parents always outlive children.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "transport/async_semaphore.h"
#include "transport/error.h"
#include "transport/notifier.h"
#include "transport/op_guard.h"
#include "transport/ssh_identity.h"
#include "transport/ssh_options.h"
#include "transport/target.h"
#include "base/unique_fd.h"

#include <libssh/libssh.h>

namespace plugbox::transport {

class FdWatch;
class SshTunnel;

// What the connections of one transport share.
struct SshContext {
  SshContext(Executor ex, SshOptions o);
  void warn(const std::string& message) const;

  Executor ex;
  SshOptions options;
  std::shared_ptr<CancelScope> scope;
  AsyncSemaphore handshakes;
  IdentityCache identities;
  int connections_started = 0;  // for tests and benchmarks
  int handshakes_in_flight = 0;
  int handshakes_peak = 0;
};

// Something that owns a channel of a connection.
class ChannelUser {
 public:
  virtual ~ChannelUser() = default;
  // The connection died; its channels are still allocated.
  virtual void on_connection_failed() {}
  // The session is about to be freed, channels included: forget them.
  virtual void on_connection_closing() = 0;
  // After each pass over incoming packets.
  virtual void after_pass() {}
};

class SshConnection : public std::enable_shared_from_this<SshConnection> {
 public:
  // `host` names the target in errors (the endpoint's name for jump hosts).
  SshConnection(std::shared_ptr<SshContext> ctx, Endpoint endpoint, std::string host);
  ~SshConnection();
  SshConnection(const SshConnection&) = delete;
  SshConnection& operator=(const SshConnection&) = delete;

  // Step 1, either: TCP connect to the endpoint (resolving it if needed) ...
  Awaitable<Error> connect_direct(OpGuard& guard);
  // ... or a tunnel through `parent` (an established connection).
  Awaitable<Error> connect_via(std::shared_ptr<SshConnection> parent, OpGuard& guard);
  // Step 2: SSH handshake, host key check, authentication (under the
  // transport's cap on concurrent handshakes).
  Awaitable<Error> handshake(OpGuard& guard);
  // Both steps: through `parent` when there is one (else direct), then the
  // handshake.
  Awaitable<Error> open(std::shared_ptr<SshConnection> parent, OpGuard& guard);

  bool established() const { return established_; }
  bool alive() const { return established_ && !failure_ && session_ != nullptr; }
  // Why it is not alive (connection_lost, keepalive_timeout, session_closed).
  const Error& failure() const { return failure_; }
  ssh_session session() const { return session_; }  // null once freed
  const std::shared_ptr<Notifier>& changed() const { return changed_; }
  const Endpoint& endpoint() const { return endpoint_; }
  const std::string& host() const { return host_; }
  SshContext& context() { return *ctx_; }

  // Counts changes: bumped whenever libssh read bytes or flushed output,
  // whichever call did it. A waiter takes the count before its libssh calls
  // and passes it to wait(), which returns at once if the count moved: a
  // call of its own may have processed packets (a reply it waits for, or
  // data for another channel) and nobody else would wake it for that.
  uint64_t generation() const { return generation_; }
  // Arms readiness for what libssh wants, then waits for the next change
  // after `seen` (updated) or for the guard to stop. Without a guard, waits
  // for the change only.
  Awaitable<void> wait(OpGuard* guard, uint64_t& seen);
  // Call after any libssh call: notices bytes it read (waking waiters) and
  // arms the waits that let the pass flush what it queued.
  void after_io();

  void attach(ChannelUser* user);
  void detach(ChannelUser* user);

  // Marks the connection dead (first reason wins) and wakes everyone.
  void fail(Error why);
  // Fails it and frees the libssh session now.
  void close(Error why);

 private:
  void on_ready(bool readable);
  void pass(bool readable);
  void note_progress(bool force);
  void post_pass();
  void check_session();
  void teardown();
  void start_keepalive();
  void keepalive_tick();
  Awaitable<Error> authenticate(OpGuard& guard);
  Error stopped(const std::error_code& code, const std::string& step) const;

  std::shared_ptr<SshContext> ctx_;
  Endpoint endpoint_;
  std::string host_;
  std::shared_ptr<Notifier> changed_;
  base::UniqueFd fd_;                        // ours until handed to libssh
  std::unique_ptr<FdWatch> watch_;     // a dup of the socket
  std::shared_ptr<SshTunnel> tunnel_;  // when reached through a jump host
  ssh_session session_ = nullptr;
  ssh_event event_ = nullptr;
  bool established_ = false;
  bool torn_down_ = false;
  bool trust_edge_ = false;
  int in_pass_ = 0;
  bool close_pending_ = false;
  bool pass_posted_ = false;
  Error failure_;
  std::vector<ChannelUser*> users_;  // null entries: detached while iterating
  int iterating_users_ = 0;
  Clock::time_point last_rx_{};
  // libssh counts the bytes it reads from the socket here, whichever call
  // reads them: readiness events alone miss what a non-pass call consumed.
  ssh_counter_struct socket_counter_{};
  uint64_t seen_in_bytes_ = 0;
  uint64_t generation_ = 0;
  asio::steady_timer keepalive_;
};

}  // namespace plugbox::transport
