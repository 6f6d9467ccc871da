#include "server-tools/cli_command.h"

#include <CLI/CLI.hpp>

#include "server-tools/errors.h"

namespace plugbox::server {

std::vector<std::unique_ptr<CliCommand>> server_commands() {
  using Factory = std::unique_ptr<CliCommand> (*)();
  static constexpr Factory kFactories[] = {
      make_init_command, make_next_version_command, make_seal_command, make_upgrade_to_command,
      make_rollback_to_command, make_remove_command, make_gc_command, make_status_command,
      make_lock_command, make_hold_command, make_release_command, make_verify_command, make_receive_command, make_relay_command, make_switch_command,
      make_run_command, make_session_command,
  };
  std::vector<std::unique_ptr<CliCommand>> all;
  all.reserve(std::size(kFactories));
  for (auto make : kFactories) all.push_back(make());
  return all;
}

void CliCommand::add_to(CLI::App& app) { add_options(*app.add_subcommand(name_, help_)); }

void require_layout(const Layout& layout) {
  if (auto p = layout_problem(layout)) bad_input(*p);
}

void print_warnings(const CommandContext& ctx, const char* command, const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) ctx.env.err << "plugbox-server " << command << ": " << w << "\n";
}

}  // namespace plugbox::server
