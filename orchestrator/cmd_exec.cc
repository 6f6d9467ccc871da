// Placeholder until issue 4 lands.
#include <CLI/CLI.hpp>
#include "orchestrator/commands.h"
namespace plugbox::cli {
void add_fleet_exec_command(CLI::App& fleet, GlobalOptions&) {
  auto* exec = fleet.add_subcommand("exec", "Run a command on every selected host");
  exec->callback([] { throw CLI::RuntimeError("not implemented yet", kBadInput); });
}
}  // namespace plugbox::cli
