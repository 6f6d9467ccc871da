// The SSH transport: libssh in non-blocking mode on the caller's io_context,
// one thread for every host (ssh_connection.h), jump chains as tunnels over
// the jump hosts' own sessions (ssh_tunnel.h). Each jump host is connected
// once per transport and shared by every target behind it; jump connections
// live until close_all() or the transport's destruction, sessions handed out
// keep their chain alive as long as they live.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "transport/ssh_options.h"
#include "transport/transport.h"

namespace plugbox::transport {

struct SshContext;
class SshConnection;

class SshTransport : public Transport {
 public:
  // Ignores SIGPIPE process-wide and raises the soft open-files limit to the
  // hard one (each host uses 2-3 descriptors).
  explicit SshTransport(Executor ex, SshOptions options = {});
  ~SshTransport() override;

  Awaitable<OpenResult> open(Target target, Deadline deadline = kNoDeadline) override;
  void cancel() override;
  bool cancelled() const override;

  // Drops the shared jump host connections (sessions still open keep theirs).
  void close_all();

  // How many SSH connections this transport started (jump hosts included),
  // and the most handshakes it ever had in flight at once.
  int connections_started() const;
  int handshakes_peak() const;

 private:
  struct JumpSlot;
  Awaitable<Error> jump(const std::string& key, const Endpoint& hop, std::shared_ptr<SshConnection> parent,
                        std::shared_ptr<SshConnection>* out, class OpGuard& guard);

  std::shared_ptr<SshContext> ctx_;
  std::map<std::string, std::shared_ptr<JumpSlot>> jumps_;
  std::map<std::string, bool> warned_off_;
};

}  // namespace plugbox::transport
