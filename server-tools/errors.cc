#include "server-tools/errors.h"

#include <utility>

namespace plugbox::server {

ServerError::ServerError(ExitStatus status, std::string message, std::string step,
                         std::error_code code)
    : std::runtime_error(std::move(message)),
      status_(status),
      step_(std::move(step)),
      code_(code) {}

void refuse(std::string message) { throw ServerError(ExitStatus::refused, std::move(message)); }

void bad_input(std::string message) {
  throw ServerError(ExitStatus::bad_input, std::move(message));
}

void sys_fail(std::string step, std::error_code code) {
  std::string msg = step + ": " + code.message();
  throw ServerError(ExitStatus::refused, std::move(msg), std::move(step), code);
}

void sys_fail(std::string step, int err) {
  sys_fail(std::move(step), std::error_code(err, std::system_category()));
}

}  // namespace plugbox::server
