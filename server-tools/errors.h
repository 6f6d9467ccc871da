// How plugbox-server fails: every failure is one line for the operator, an
// exit status that tells the caller whose problem it is, and (for system
// errors) the error_code plus the step that failed.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>

namespace plugbox::server {

// The process exit statuses of docs/DESIGN.md §3.
//  ok         the command did what was asked (or it was already so)
//  refused    a well-formed request this host's state does not allow (unknown
//             or staged version, removing live, lock held by someone else, a
//             name that exists) or a system error while carrying it out
//  bad_input  a request that could never succeed as written: bad usage, a
//             malformed name or option value, a home that is not a layout
enum class ExitStatus : int { ok = 0, refused = 1, bad_input = 2 };

class ServerError : public std::runtime_error {
 public:
  ServerError(ExitStatus status, std::string message, std::string step = {},
              std::error_code code = {});
  ExitStatus status() const { return status_; }
  // The operation that failed ("rename deploy/.plugbox/tmp/live.123 -> deploy/live"),
  // empty for refusals and bad input.
  const std::string& step() const { return step_; }
  const std::error_code& code() const { return code_; }

 private:
  ExitStatus status_;
  std::string step_;
  std::error_code code_;
};

[[noreturn]] void refuse(std::string message);
[[noreturn]] void bad_input(std::string message);
// A system call failed: message is "STEP: strerror(errno)".
[[noreturn]] void sys_fail(std::string step, int err);
[[noreturn]] void sys_fail(std::string step, std::error_code code);

}  // namespace plugbox::server
