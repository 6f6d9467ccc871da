// The plugbox-server command line: a thin CLI11 layer over the chain library.
// Parsing and validating every argument happens before anything is touched,
// so bad input (exit 2) never changes the disk.
#pragma once

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace plugbox::server {

struct CliEnv {
  std::ostream& out;
  std::ostream& err;
  int stdin_fd = 0;  // `lock` holds the lock until this reaches EOF
  // The environment (HOME, PLUGBOX_LOCK_OWNER); tests pass their own.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  int stdout_fd = 1;  // `session` writes its binary frames here, not through `out`
};

// Runs one command; `args` excludes the program name. Returns the exit status
// (0 done, 1 refused, 2 bad usage or input).
int run_server_cli(const std::vector<std::string>& args, CliEnv& env);

// The environment of this process, for CliEnv::getenv.
std::optional<std::string> process_env(const std::string& name);

}  // namespace plugbox::server
