// The inputs every command loads before touching anything: the inventory,
// the host selection, and the service file. Any problem ends the command
// with every message and exit 2 (bad_input), nothing touched.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory.h"
#include "orchestrator/commands.h"
#include "orchestrator/planner.h"
#include "orchestrator/service_config.h"

namespace CLI {
class App;
}

namespace plugbox::cli {

struct SelectOptions {
  std::vector<std::string> groups, hosts;
  int parallel = 50;
  bool json = false;
};

// --group, --host, --parallel.
void add_select(CLI::App* c, SelectOptions& s);

// The service file (-f, else ./plugbox.toml), validated.
orchestrator::ServiceConfig load_service(const GlobalOptions& g);

struct Loaded {
  inventory::Inventory inventory;
  std::vector<const inventory::Host*> hosts;
  std::optional<orchestrator::ServiceConfig> service;
  bool host_sessions = true;  // PLUGBOX_SESSION (orchestrator/fleet_transport.h)

  std::string service_name() const { return service ? service->name : ""; }
  // The selected hosts as the executors see them, under lock owner `owner`;
  // a host whose target cannot work (e.g. a jump through a local host) is
  // bad input.
  std::vector<orchestrator::PlannedHost> plan_hosts(const std::string& owner) const;
};

// Inventory, selection and (when `need_service`, or when present) the
// service file. Without --group/--host, `default_group` (the service file's
// [deploy] group) is used, and a selection error points at that file.
// Without a service file every host needs its user and home set in the
// inventory; `needs_home` false (exec) waives the home of an SSH host.
Loaded load(const GlobalOptions& g, SelectOptions& sel, bool need_service, const std::string& default_group = "",
            bool needs_home = true);

}  // namespace plugbox::cli
