// Every transport operation has a deadline: a point on the steady clock.
#pragma once

#include <chrono>

namespace plugbox::transport {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

inline constexpr Deadline kNoDeadline = Deadline::max();

inline Deadline deadline_in(Clock::duration d) { return Clock::now() + d; }

inline Deadline earlier(Deadline a, Deadline b) { return a < b ? a : b; }

}  // namespace plugbox::transport
