#include "server-tools/cli_command.h"

#include "server-tools/errors.h"

namespace plugbox::server {

std::vector<std::unique_ptr<CliCommand>> server_commands() {
  std::vector<std::unique_ptr<CliCommand>> all;
  all.push_back(make_init_command());
  all.push_back(make_next_version_command());
  all.push_back(make_seal_command());
  all.push_back(make_upgrade_to_command());
  all.push_back(make_rollback_to_command());
  all.push_back(make_remove_command());
  all.push_back(make_gc_command());
  all.push_back(make_status_command());
  all.push_back(make_lock_command());
  all.push_back(make_verify_command());
  all.push_back(make_receive_command());
  all.push_back(make_switch_command());
  all.push_back(make_run_command());
  return all;
}

void require_layout(const Layout& layout) {
  if (auto p = layout_problem(layout)) bad_input(*p);
}

void print_warnings(const CommandContext& ctx, const char* command, const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) ctx.env.err << "plugbox-server " << command << ": " << w << "\n";
}

}  // namespace plugbox::server
