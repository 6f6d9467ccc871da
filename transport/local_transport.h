// The local transport: each host is a directory on this machine, and its
// commands run there with `/bin/sh -c` (HOME set to the directory, so the
// host's tools find their layout as they would on a real host). Same
// semantics as SSH: exit status, streamed output, stdin, deadline kill,
// cancellation. Processes are spawned with pipes watched by the io_context
// (and a pidfd for the exit), never a thread per command.
#pragma once

#include <chrono>
#include <memory>

#include "transport/op_guard.h"
#include "transport/transport.h"

namespace plugbox::transport {

struct LocalOptions {
  // After SIGTERM (deadline or cancel), how long before SIGKILL.
  std::chrono::milliseconds kill_grace{2000};
};

class LocalTransport : public Transport {
 public:
  // Ignores SIGPIPE process-wide (writes to a command that stopped reading
  // must fail with EPIPE, not kill plugbox); children get it back.
  explicit LocalTransport(Executor ex, LocalOptions options = {});
  ~LocalTransport() override;

  Awaitable<OpenResult> open(Target target, Deadline deadline = kNoDeadline) override;
  void cancel() override;
  bool cancelled() const override;

 private:
  Executor ex_;
  LocalOptions options_;
  std::shared_ptr<CancelScope> scope_;
};

}  // namespace plugbox::transport
