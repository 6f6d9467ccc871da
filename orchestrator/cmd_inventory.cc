// Placeholder until issue 3 lands.
#include <CLI/CLI.hpp>
#include "orchestrator/commands.h"
namespace plugbox::cli {
void add_inventory_commands(CLI::App& app, GlobalOptions&) {
  auto* inv = app.add_subcommand("inventory", "Check, list and graph the inventory");
  inv->callback([] { throw CLI::RuntimeError("not implemented yet", kBadInput); });
}
}  // namespace plugbox::cli
