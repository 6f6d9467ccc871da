#include "transport/async_semaphore.h"

#include <algorithm>

namespace plugbox::transport {

Awaitable<std::error_code> AsyncSemaphore::acquire(OpGuard& guard, Permit* permit) {
  if (auto ec = guard.stop_code()) co_return ec;
  if (available_ > 0 && waiters_.empty()) {
    --available_;
    *permit = Permit(this);
    co_return std::error_code{};
  }
  auto me = std::make_shared<Waiter>(ex_);
  waiters_.push_back(me);
  while (!me->granted) {
    if (auto ec = guard.stop_code()) {
      waiters_.erase(std::find(waiters_.begin(), waiters_.end(), me));
      co_return ec;
    }
    co_await guard.wait(me->notifier);
  }
  *permit = Permit(this);
  co_return std::error_code{};
}

void AsyncSemaphore::release() {
  if (!waiters_.empty()) {
    // Hand the slot straight to the oldest waiter so nobody can overtake it.
    auto next = waiters_.front();
    waiters_.pop_front();
    next->granted = true;
    next->notifier->notify();
    return;
  }
  ++available_;
}

}  // namespace plugbox::transport
