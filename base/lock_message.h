// The message of a maintenance lock (`plugbox fleet lock --message TEXT`):
// checked by plugbox before it touches any host, and by plugbox-server's
// `hold` (its own callers may not be plugbox), by this one rule.
#pragma once

#include <optional>
#include <string>

namespace plugbox::base {

// Why `message` cannot be a maintenance lock's message (one phrase naming
// the fix), or nullopt: it must say something, on one line, in at most 500
// bytes.
std::optional<std::string> lock_message_problem(const std::string& message);

}  // namespace plugbox::base
