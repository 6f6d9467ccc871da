#include "orchestrator/event_loop.h"

#include <boost/asio/signal_set.hpp>
#include <iostream>

namespace plugbox::orchestrator {

void run_loop(boost::asio::io_context& io, FleetTransport& transport, Interrupt& interrupt,
              std::function<transport::Awaitable<void>()> task, std::function<void()> on_interrupt) {
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  int count = 0;
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (++count == 1) {
      std::cerr << "\nplugbox: interrupted: starting nothing new, finishing or undoing what was begun "
                   "(Ctrl-C again to abort at once)\n";
      interrupt.raise();
      if (on_interrupt) on_interrupt();
    } else {
      transport.cancel();
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  std::exception_ptr failure;
  bool finished = false;
  auto body = [&]() -> transport::Awaitable<void> {
    try {
      co_await task();
    } catch (...) {
      failure = std::current_exception();
    }
    finished = true;
    signals.cancel();  // else the pending signal wait keeps io.run() going
    transport.close_all();
  };
  transport::asio::co_spawn(io, body, transport::asio::detached);
  while (!finished && io.run_one() > 0) {
  }
  // Disconnects in flight may finish; nothing may keep plugbox from exiting.
  if (finished) io.run_for(std::chrono::seconds(2));
  if (failure) std::rethrow_exception(failure);
  if (!finished) throw std::runtime_error("the event loop stopped before the command finished");
}

}  // namespace plugbox::orchestrator
