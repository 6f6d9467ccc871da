// Notifier, OpGuard, AsyncSemaphore and StdinPipe: the pieces every transport
// waits with.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include "tests/transport/test_util.h"
#include "transport/async_semaphore.h"
#include "transport/stdin_pipe.h"

using namespace plugbox::transport;
using plugbox::transport::test::run;
using namespace std::chrono_literals;

TEST_CASE("an OpGuard wakes its waiter at the deadline and on cancel") {
  boost::asio::io_context io;
  auto scope = std::make_shared<CancelScope>();
  auto n = std::make_shared<Notifier>(io.get_executor());
  auto timed = [&]() -> Awaitable<std::error_code> {
    OpGuard g(io.get_executor(), deadline_in(50ms), scope);
    while (!g.stopped()) co_await g.wait(n);
    co_return g.stop_code();
  };
  CHECK(run(io, timed()) == std::errc::timed_out);

  auto cancelled = [&]() -> Awaitable<std::error_code> {
    OpGuard g(io.get_executor(), kNoDeadline, scope);
    asio::steady_timer t(io.get_executor(), 20ms);
    t.async_wait([&](const boost::system::error_code&) { scope->cancel(); });
    while (!g.stopped()) co_await g.wait(n);
    co_return g.stop_code();
  };
  CHECK(run(io, cancelled()) == std::errc::operation_canceled);
}

TEST_CASE("an AsyncSemaphore caps holders and serves waiters in order") {
  boost::asio::io_context io;
  AsyncSemaphore sem(io.get_executor(), 2);
  auto scope = std::make_shared<CancelScope>();
  int holding = 0, most = 0;
  std::vector<int> order;
  auto worker = [&](int id) -> Awaitable<void> {
    OpGuard g(io.get_executor(), kNoDeadline, scope);
    AsyncSemaphore::Permit p;
    // co_await stays out of Catch's macros: g++ 12 mishandles it inside their
    // expression templates.
    auto ec = co_await sem.acquire(g, &p);
    CHECK_FALSE(ec);
    order.push_back(id);
    most = std::max(most, ++holding);
    asio::steady_timer t(io.get_executor(), 5ms);
    co_await t.async_wait(asio::use_awaitable);
    --holding;
  };
  int finished = 0;
  auto counted = [&](int id) -> Awaitable<void> {
    co_await worker(id);
    ++finished;
  };
  auto all = [&]() -> Awaitable<int> {
    for (int i = 0; i < 6; ++i) asio::co_spawn(io, counted(i), asio::detached);
    asio::steady_timer t(io.get_executor());
    while (finished < 6) {
      t.expires_after(1ms);
      co_await t.async_wait(asio::use_awaitable);
    }
    co_return 0;
  };
  run(io, all());
  CHECK(most == 2);
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5});
  CHECK(sem.available() == 2);

  // A waiter whose deadline passes leaves the queue without a slot.
  auto starved = [&]() -> Awaitable<std::error_code> {
    OpGuard g1(io.get_executor(), kNoDeadline, scope);
    AsyncSemaphore::Permit a, b, c;
    co_await sem.acquire(g1, &a);
    co_await sem.acquire(g1, &b);
    OpGuard g2(io.get_executor(), deadline_in(30ms), scope);
    auto ec = co_await sem.acquire(g2, &c);
    CHECK_FALSE(c);
    CHECK(sem.waiting() == 0);
    co_return ec;
  };
  CHECK(run(io, starved()) == std::errc::timed_out);
  CHECK(sem.available() == 2);
}

TEST_CASE("a StdinPipe holds writers back above its high-water mark") {
  boost::asio::io_context io;
  auto pipe = StdinPipe::create(io.get_executor(), 10);
  auto source = pipe->source();
  auto body = [&]() -> Awaitable<std::string> {
    bool second_written = false;
    auto writer = [&]() -> Awaitable<void> {
      co_await pipe->write(std::string(11, 'a'));  // over the mark once queued
      co_await pipe->write("b");                   // waits until a reader drains
      second_written = true;
      pipe->close();
    };
    asio::co_spawn(io, writer(), asio::detached);
    asio::steady_timer t(io.get_executor(), 20ms);
    co_await t.async_wait(asio::use_awaitable);
    CHECK_FALSE(second_written);
    std::string got;
    while (auto chunk = co_await source()) got += *chunk;
    CHECK(second_written);
    bool accepted = co_await pipe->write("late");
    CHECK_FALSE(accepted);
    co_return got;
  };
  CHECK(run(io, body()) == std::string(11, 'a') + "b");
}
