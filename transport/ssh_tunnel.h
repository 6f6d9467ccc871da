// A hop of a jump chain: a direct-tcpip channel of the jump host's connection
// to the next host, bridged by the event loop to one end of a socketpair. The
// other end is the socket of the inner connection (SSH_OPTIONS_FD), which
// therefore neither knows nor cares that it is tunnelled. One jump host
// connection carries the tunnels of every host behind it.
//
// Flow control both ways: bytes from the channel are written to the
// socketpair; what does not fit waits here up to a cap, beyond which the data
// callback leaves bytes in libssh's channel buffer, which stops libssh from
// growing the window (the sender then stops). Bytes from the socketpair are
// read only while the channel's remote window is open and the jump
// connection has no unsent output.
#pragma once

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <memory>
#include <string>

#include "transport/error.h"
#include "transport/op_guard.h"
#include "transport/ssh_connection.h"
#include "base/unique_fd.h"

namespace plugbox::transport {

class FdWatch;

class SshTunnel : public ChannelUser, public std::enable_shared_from_this<SshTunnel> {
 public:
  struct Opened {
    std::shared_ptr<SshTunnel> tunnel;
    Error error;
  };
  // Opens a channel of `parent` to address:port (as the parent sees it).
  // `host` names the target in errors.
  static Awaitable<Opened> open(std::shared_ptr<SshConnection> parent, std::string address, int port,
                                std::string host, OpGuard& guard);

  SshTunnel(std::shared_ptr<SshConnection> parent, std::string host);
  ~SshTunnel() override;

  // The inner connection's socket (once).
  base::UniqueFd take_inner() { return std::move(inner_); }

  void on_connection_failed() override;
  void on_connection_closing() override;
  void after_pass() override;

 private:
  static int on_data(ssh_session, ssh_channel, void* data, uint32_t len, int is_stderr, void* user);
  static void on_eof(ssh_session, ssh_channel, void* user);
  static void on_close(ssh_session, ssh_channel, void* user);

  void service();
  bool flush_down();  // false when the inner side is gone
  void pull_leftover();
  void shut_outer();
  size_t down_pending() const { return down_.size() - down_off_; }

  std::shared_ptr<SshConnection> parent_;
  std::string host_;
  ssh_channel ch_ = nullptr;
  ssh_channel_callbacks_struct callbacks_{};
  base::UniqueFd inner_;
  std::unique_ptr<FdWatch> outer_;  // our end of the socketpair
  std::string down_;                // channel -> outer, from down_off_
  size_t down_off_ = 0;
  std::string up_;                  // outer -> channel, from up_off_
  size_t up_off_ = 0;
  bool dirty_ = false;              // the callbacks saw something: service after the pass
  bool leftover_ = false;           // libssh's channel buffer holds bytes we declined
  bool waiting_window_ = false;
  bool waiting_flush_ = false;      // the jump connection had unsent output
  bool remote_eof_ = false;
  bool outer_eof_ = false;
  bool sent_eof_ = false;
  bool outer_shut_ = false;
  bool down_eof_sent_ = false;
  bool in_service_ = false;
};

}  // namespace plugbox::transport
