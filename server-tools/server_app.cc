#include "server-tools/server_app.h"

#include <CLI/CLI.hpp>

namespace plugbox::server {

void build_server_app(CLI::App& app, ServerGlobalOptions& global,
                      const std::vector<std::unique_ptr<CliCommand>>& commands) {
  app.name("plugbox-server");
  app.description(
      "plugbox-server: keeps a service home's chain of versions and its live link (run on each "
      "host as the service user).\nExit status: 0 done, 1 refused (the reason is printed), 2 bad "
      "usage or input.\n`plugbox-server --version` prints the release, its commit and the host protocols.");
  app.fallthrough();  // global options may also follow the command
  app.require_subcommand(1);
  app.add_option("--home", global.home, "the service home holding deploy/ (default: $HOME)");
  app.add_option("--owner", global.owner,
                 "deploy-lock owner id: run under the lock this owner holds (default: "
                 "$PLUGBOX_LOCK_OWNER)");
  app.add_option("--wait", global.wait_s,
                 "seconds to wait for a deploy lock held by another owner (default 0: fail at once)")
      ->check(CLI::Range(0.0, 86400.0));
  for (const auto& c : commands) c->add_to(app);
  for (auto* sub : app.get_subcommands({}))
    sub->footer(
        "Global options, before or after the command: --home DIR, --owner ID, --wait SECONDS "
        "(see plugbox-server --help).");
}

}  // namespace plugbox::server
