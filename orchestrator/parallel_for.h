// A bounded worker pool on the event loop: the fleet commands' way of
// working on many hosts at once (--parallel), used by deploys, rollbacks,
// gc and status alike.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "transport/transport.h"

namespace plugbox::orchestrator {

// Runs f(i) for every i in [0, n), at most `parallel` at once, and returns
// when all have finished. Workers pull the next index from a shared cursor,
// so n waiting items cost no coroutines. Each f reports its own failures; an
// exception escaping f(i) must not stop the others: it goes to on_error
// (with f's index and its message) when given, and is dropped otherwise.
// f is kept alive until every call has finished.
transport::Awaitable<void> parallel_for(std::size_t n, int parallel,
                                        std::function<transport::Awaitable<void>(std::size_t)> f,
                                        std::function<void(std::size_t, const std::string&)> on_error = {});

}  // namespace plugbox::orchestrator
