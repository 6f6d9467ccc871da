// The service definition, plugbox.toml (docs/DESIGN.md §1): what to prepare, what to
// upload, how to stop/start/refresh and check the service, and how to roll it
// out. Validated on load; every problem is reported with its file position
// and dotted path ("plugbox.toml:14:11: deploy.batches[2]: ...").
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "inventory/inventory.h"
#include "orchestrator/batches.h"

namespace plugbox::orchestrator {

struct DeployConfig {
  std::string group;                                  // the inventory group `plugbox deploy` targets
  inventory::SourcePos group_pos;                     // where it is set, for "unknown group" errors
  std::vector<BatchSize> batches{BatchSize{false, 1}, BatchSize{true, 100}};  // canary, then the rest
  int max_fail = 0;          // failed hosts tolerated per batch before the fleet is rolled back
  int keep = 5;              // versions kept by gc
  int health_retries = 10;   // attempts of the health command after a switch
  double health_interval = 2;   // seconds between attempts
  double health_timeout = 10;   // seconds one attempt may take
  double command_timeout = 300; // seconds any other remote command may take
  double connect_timeout = 30;  // seconds to reach a host through its whole jump chain
  // Fan-out (site_relay.h): hosts behind the same jump chain fetch what they
  // lack from a relay on one of them, so each content crosses the link to
  // the site once. "off": every host is sent its own copy.
  bool fan_out = true;
  int fan_out_port = 7447;  // the TCP port the relay listens on, inside the site
};

// [hooks]: shell lines run on the operator's machine (local_hooks.h).
struct HooksConfig {
  std::string before_deploy, after_deploy, on_failure, after_rollback;  // empty: none
};

struct ServiceConfig {
  std::filesystem::path file;        // the plugbox.toml read
  std::filesystem::path source_dir;  // its directory: prepare runs and upload paths resolve here
  std::string name;
  std::vector<std::string> prepare;
  std::optional<std::string> upload_version;
  std::vector<std::string> upload;
  // Hosts hard-link an unchanged file only if its mtime is unchanged too
  // (upload::LinkRule::exact_mtime); off, a build that rewrites every mtime
  // still shares unchanged files with the previous versions.
  bool exact_mtimes = false;
  std::vector<std::string> post_upload, stop, start, refresh;
  std::string health;  // empty: no health check
  DeployConfig deploy;
  HooksConfig hooks;

  // Throw inventory::InventoryError carrying every problem found.
  static ServiceConfig load(const std::filesystem::path& file);
  static ServiceConfig parse(std::string_view text, const std::filesystem::path& file);
};

// -f, else ./plugbox.toml.
std::filesystem::path resolve_service_path(const std::optional<std::string>& cli_value);

}  // namespace plugbox::orchestrator
