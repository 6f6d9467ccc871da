// The stop conditions of one operation: its deadline and its transport's
// cancellation (Ctrl-C). Asio 1.18 has no cancellation slots, so an operation
// waits on a Notifier and the guard wakes that Notifier when the deadline
// passes or the scope is cancelled; the operation then sees stop_code().
#pragma once

#include <list>
#include <memory>
#include <system_error>

#include "transport/asio.h"
#include "transport/deadline.h"
#include "transport/notifier.h"

namespace plugbox::transport {

class OpGuard;

// Shared by a transport and every operation it runs.
class CancelScope {
 public:
  bool cancelled() const { return cancelled_; }
  // Marks the scope cancelled and wakes every operation that is waiting.
  void cancel();

 private:
  friend class OpGuard;
  struct Op {
    bool expired = false;
    std::weak_ptr<Notifier> waiting_on;
  };
  bool cancelled_ = false;
  std::list<std::shared_ptr<Op>> ops_;
};

class OpGuard {
 public:
  OpGuard(Executor ex, Deadline deadline, std::shared_ptr<CancelScope> scope);
  ~OpGuard();
  OpGuard(const OpGuard&) = delete;
  OpGuard& operator=(const OpGuard&) = delete;

  // std::errc::timed_out after the deadline, std::errc::operation_canceled
  // after cancellation, else empty.
  std::error_code stop_code() const;
  bool stopped() const { return static_cast<bool>(stop_code()); }
  Deadline deadline() const { return deadline_; }

  // Suspends until `n` is notified, the deadline passes or the scope is
  // cancelled. Returns at once if the guard is already stopped.
  Awaitable<void> wait(std::shared_ptr<Notifier> n);

 private:
  Deadline deadline_;
  std::shared_ptr<CancelScope> scope_;
  std::shared_ptr<CancelScope::Op> op_;
  std::list<std::shared_ptr<CancelScope::Op>>::iterator registration_;
  asio::steady_timer timer_;
};

}  // namespace plugbox::transport
