// The pure planner: inventory + service + options -> what a fleet command will
// do, host by host and batch by batch. Nothing here touches a host; the
// executor carries a plan out, and --dry-run prints it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory.h"
#include "orchestrator/batches.h"
#include "orchestrator/remote_commands.h"
#include "orchestrator/service_config.h"
#include "transport/target.h"

namespace plugbox::orchestrator {

struct PlannedHost {
  std::string name;
  HostContext ctx;
  transport::Target target;
  std::vector<std::string> via;  // jump chain names, outermost first
  // Its site for fan-out (docs/DESIGN.md §6): the `site` var, else the
  // outermost jump host (the far end of the slow link); "" (reached directly,
  // no var): none.
  std::string site;
};

// An inventory host as the transport sees it: its endpoint and the endpoints
// of its jump chain; a local host is its home directory.
PlannedHost plan_host(const inventory::Inventory& inv, const inventory::Host& host, const std::string& service,
                      const std::string& owner);

struct DeployOptions {
  std::string version;                         // the fleet-wide name (UTC timestamp)
  std::string owner;                           // lock owner id of this run
  std::optional<std::vector<BatchSize>> batches;  // --batches, else the service file's
  std::optional<int> max_fail;                 // --max-fail, else the service file's
  int parallel = 50;                           // hosts staged at once
  std::string by;                              // who deploys (user@machine)
  std::string source_rev;                      // the source tree's revision, if known
};

struct DeployPlan {
  std::string service, version, owner, by, source_rev;
  std::vector<PlannedHost> hosts;           // in inventory order
  std::vector<std::vector<std::size_t>> batches;  // indices into hosts
  int max_fail = 0;
  int parallel = 50;
  bool refresh = false;                     // switch with refresh instead of stop/start
  DeployConfig deploy;                      // health settings, timeouts
  ServiceConfig service_config;

  // The exact --dry-run text: every host's commands, every batch.
  std::string render() const;
  // Whether the upload's command seals V itself (no post_upload steps to
  // run between the upload and the seal).
  bool seals_on_receive() const { return service_config.post_upload.empty(); }
  // What follows `receive V` on every host: --create, the provenance, and
  // --seal when seals_on_receive().
  std::vector<std::string> receive_flags() const;
};

DeployPlan plan_deploy(const ServiceConfig& svc, const inventory::Inventory& inv,
                       const std::vector<const inventory::Host*>& hosts, const DeployOptions& opts);

// The current UTC second as a version name: YYYY-MM-DDTHH:MM:SS.
std::string version_now();
// Whether `s` has that form (digits where the digits go).
bool is_version_name(const std::string& s);

}  // namespace plugbox::orchestrator
