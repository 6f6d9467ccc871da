#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <vector>

#include "orchestrator/parallel_for.h"

namespace asio = plugbox::transport::asio;
using plugbox::orchestrator::parallel_for;
using plugbox::transport::Awaitable;

namespace {

struct Tally {
  int running = 0, most = 0;
  std::vector<int> calls;  // per index
  std::map<std::size_t, std::string> errors;
};

// Stays "running" across a real suspension (a timer), so overlap is visible.
Awaitable<void> work(Tally* t, std::size_t i, std::size_t throw_at) {
  ++t->running;
  t->most = std::max(t->most, t->running);
  ++t->calls.at(i);
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(2));
  co_await timer.async_wait(asio::use_awaitable);
  --t->running;
  if (i == throw_at) throw std::runtime_error("host " + std::to_string(i) + " blew up");
}

void run(std::size_t n, int parallel, Tally* t, std::size_t throw_at = SIZE_MAX) {
  t->calls.assign(n, 0);
  boost::asio::io_context io;
  bool finished = false;
  auto f = [t, throw_at](std::size_t i) { return work(t, i, throw_at); };
  auto on_error = [t](std::size_t i, const std::string& what) { t->errors[i] = what; };
  auto body = [&]() -> Awaitable<void> {
    co_await parallel_for(n, parallel, f, on_error);
    finished = true;
  };
  asio::co_spawn(io, body(), asio::detached);
  io.run();
  REQUIRE(finished);
}

}  // namespace

TEST_CASE("parallel_for runs every index once, never more than `parallel` at once") {
  Tally t;
  run(10, 3, &t);
  CHECK(t.calls == std::vector<int>(10, 1));
  CHECK(t.most == 3);
  CHECK(t.running == 0);
  CHECK(t.errors.empty());
}

TEST_CASE("parallel_for with parallel 1 is sequential, and with more workers than items runs all at once") {
  Tally one;
  run(5, 1, &one);
  CHECK(one.most == 1);
  CHECK(one.calls == std::vector<int>(5, 1));
  Tally wide;
  run(4, 50, &wide);
  CHECK(wide.most == 4);
}

TEST_CASE("parallel_for: an exception in one item reaches on_error with its index, the others still run") {
  Tally t;
  run(6, 2, &t, 3);
  CHECK(t.calls == std::vector<int>(6, 1));
  REQUIRE(t.errors.size() == 1);
  CHECK(t.errors.begin()->first == 3);
  CHECK(t.errors.begin()->second == "host 3 blew up");
}

TEST_CASE("parallel_for over nothing returns at once") {
  Tally t;
  run(0, 4, &t);
  CHECK(t.calls.empty());
  CHECK(t.most == 0);
}
