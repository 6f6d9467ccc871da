// A counting semaphore for coroutines on one thread, first come first served:
// the cap on concurrent SSH handshakes.
#pragma once

#include <deque>
#include <memory>
#include <system_error>

#include "transport/asio.h"
#include "transport/notifier.h"
#include "transport/op_guard.h"

namespace plugbox::transport {

class AsyncSemaphore {
 public:
  AsyncSemaphore(Executor ex, int count) : ex_(std::move(ex)), available_(count) {}

  // Held slot; releases on destruction.
  class Permit {
   public:
    Permit() = default;
    explicit Permit(AsyncSemaphore* s) : sem_(s) {}
    Permit(Permit&& o) noexcept : sem_(std::exchange(o.sem_, nullptr)) {}
    Permit& operator=(Permit&& o) noexcept {
      reset();
      sem_ = std::exchange(o.sem_, nullptr);
      return *this;
    }
    ~Permit() { reset(); }
    void reset() {
      if (sem_) std::exchange(sem_, nullptr)->release();
    }
    explicit operator bool() const { return sem_ != nullptr; }

   private:
    AsyncSemaphore* sem_ = nullptr;
  };

  // Waits for a slot. On success *permit holds it; otherwise returns the
  // guard's stop code and *permit stays empty. The semaphore must outlive
  // every permit.
  Awaitable<std::error_code> acquire(OpGuard& guard, Permit* permit);

  int available() const { return available_; }
  size_t waiting() const { return waiters_.size(); }

 private:
  struct Waiter {
    explicit Waiter(Executor ex) : notifier(std::make_shared<Notifier>(std::move(ex))) {}
    std::shared_ptr<Notifier> notifier;
    bool granted = false;
  };
  void release();

  Executor ex_;
  int available_;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace plugbox::transport
