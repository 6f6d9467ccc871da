// `plugbox fleet status`: each selected host's status, read at once
// (read-only: no lock), as a table or JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "orchestrator/exit_status.h"
#include "orchestrator/fleet_context.h"
#include "orchestrator/host_status.h"

namespace plugbox::orchestrator {

struct HostStatusRow {
  std::string host;
  bool reachable = false;
  std::string error;                 // why the host or its status could not be read
  std::optional<HostStatus> status;  // when it could
};

transport::Awaitable<std::vector<HostStatusRow>> fleet_status(FleetContext ctx);
std::string render_status_table(const std::vector<HostStatusRow>& rows);
nlohmann::json status_rows_json(const std::vector<HostStatusRow>& rows);
// Exit 0 when every host was read, 1 otherwise.
ExitStatus status_exit(const std::vector<HostStatusRow>& rows);

}  // namespace plugbox::orchestrator
