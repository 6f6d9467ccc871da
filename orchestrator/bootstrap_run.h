// `plugbox fleet bootstrap`: each selected host made ready for its first
// deploy, explicitly: plugbox's own server installed where it is missing or
// of another version (whatever server_install says; a pinned server is only
// asked its version), and the layout created (`init`). The table says, per
// host, its architecture, the server it runs and what was done.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "orchestrator/exit_status.h"
#include "orchestrator/fleet_context.h"

namespace plugbox::orchestrator {

struct BootstrapRow {
  std::string host;
  std::string arch;     // `uname -m`; empty when unknown
  std::string server;   // what the server says of itself
  std::string action;   // installed, replaced, current, pinned, failed, unreachable
  std::string error;    // when failed or unreachable: one line with the fix
};

transport::Awaitable<std::vector<BootstrapRow>> fleet_bootstrap(FleetContext ctx);
std::string render_bootstrap_table(const std::vector<BootstrapRow>& rows);
nlohmann::json bootstrap_rows_json(const std::vector<BootstrapRow>& rows);
// 0 when every host is ready, 1 otherwise.
ExitStatus bootstrap_exit(const std::vector<BootstrapRow>& rows);

}  // namespace plugbox::orchestrator
