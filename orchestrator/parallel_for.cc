#include "orchestrator/parallel_for.h"

#include <algorithm>
#include <exception>
#include <memory>

#include "transport/notifier.h"

namespace plugbox::orchestrator {

namespace {

struct ForState {
  explicit ForState(transport::Executor e) : done(std::move(e)) {}
  std::size_t next = 0, n = 0;
  int running = 0;
  transport::Notifier done;
  std::function<transport::Awaitable<void>(std::size_t)> f;
  std::function<void(std::size_t, const std::string&)> on_error;
};

transport::Awaitable<void> for_worker(std::shared_ptr<ForState> st) {
  while (st->next < st->n) {
    std::size_t i = st->next++;
    std::string what;
    bool threw = false;
    try {
      co_await st->f(i);
    } catch (const std::exception& e) {
      threw = true;
      what = e.what();
    } catch (...) {
      threw = true;
      what = "unknown exception";
    }
    if (threw && st->on_error) st->on_error(i, what);
  }
  --st->running;
  st->done.notify();
}

}  // namespace

transport::Awaitable<void> parallel_for(std::size_t n, int parallel,
                                        std::function<transport::Awaitable<void>(std::size_t)> f,
                                        std::function<void(std::size_t, const std::string&)> on_error) {
  if (n == 0) co_return;
  auto ex = co_await transport::asio::this_coro::executor;
  auto st = std::make_shared<ForState>(ex);
  st->n = n;
  st->f = std::move(f);
  st->on_error = std::move(on_error);
  int workers = std::max(1, std::min<int>(parallel, int(n)));
  for (int i = 0; i < workers; ++i) {
    ++st->running;
    transport::asio::co_spawn(ex, for_worker(st), transport::asio::detached);
  }
  while (st->running > 0) co_await st->done.wait();
}

}  // namespace plugbox::orchestrator
