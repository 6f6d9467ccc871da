#include "orchestrator/cli_app.h"

#include <CLI/CLI.hpp>

#include <string>

#include "base/build_info.h"
#include "upload/common/stream_format.h"

namespace plugbox::cli {

void build_app(CLI::App& app, GlobalOptions& opts) {
  app.description("plugbox: stage releases on every host, switch them live in health-gated batches, roll the fleet back");
  app.set_help_all_flag("--help-all", "Every command's help");
  // CLI11 prints the text as it is and adds a newline: drop ours.
  std::string version = base::version_text("plugbox", upload::kProtocolVersion);
  version.pop_back();
  app.set_version_flag("--version", version, "The release, its commit and the host protocols it speaks");
  app.require_subcommand(1);
  app.add_option("-i,--inventory", opts.inventory,
                 "Inventory file (default: $PLUGBOX_INVENTORY, else ./inventory.toml)");
  app.add_option("-f,--service-file", opts.service_file, "Service file (default: ./plugbox.toml)");

  // Every command, one registration each, in the order --help lists them.
  add_inventory_commands(app, opts);
  auto* fleet = app.add_subcommand("fleet", "Commands on a selection of hosts");
  fleet->require_subcommand(1);
  add_exec_command(*fleet, opts);
  add_deploy_commands(app, *fleet, opts);
  add_rollback_commands(app, *fleet, opts);
  add_gc_command(*fleet, opts);
  add_status_command(*fleet, opts);
  add_bootstrap_command(*fleet, opts);
  add_lock_commands(*fleet, opts);
  add_prepare_command(app, opts);
}

}  // namespace plugbox::cli
