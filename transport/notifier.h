// A condition variable for coroutines on one thread: wait() suspends until the
// next notify(). Waiters always re-check their condition after waking and
// before waiting again, and everything runs on one thread, so a notify() with
// nobody waiting loses nothing.
#pragma once

#include "transport/asio.h"

namespace plugbox::transport {

class Notifier {
 public:
  explicit Notifier(Executor ex) : timer_(std::move(ex), asio::steady_timer::time_point::max()) {}
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // The timer never expires: only notify() (cancel) completes the wait. Its
  // expiry is never reset, since that would cancel the other waiters too.
  Awaitable<void> wait() {
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  void notify() { timer_.cancel(); }
  Executor get_executor() { return timer_.get_executor(); }

 private:
  asio::steady_timer timer_;
};

}  // namespace plugbox::transport
