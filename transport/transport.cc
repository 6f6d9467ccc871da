#include "transport/transport.h"

namespace plugbox::transport {

std::string ExecResult::describe() const {
  if (error) return error.message();
  if (!exit_signal.empty()) return "killed by SIG" + exit_signal;
  return "exit " + std::to_string(exit_status);
}

}  // namespace plugbox::transport
