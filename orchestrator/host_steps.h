// The step lists of a host's switch, its undo, and a rollback, built in one
// place from the service's commands (docs/DESIGN.md §5). The executors run
// them (HostConn::run_steps) and the dry-runs print them, so the two cannot
// disagree.
#pragma once

#include <optional>
#include <string>

#include "orchestrator/remote_commands.h"
#include "orchestrator/service_config.h"
#include "orchestrator/step.h"

namespace plugbox::orchestrator {

// What every list of one host needs: the host, the service's commands and
// the timeout of each command. A fleet rollback without a service file has
// a service with no commands: it only moves links.
struct StepContext {
  const HostContext& host;
  const ServiceConfig& service;
  double timeout_s;
};

// Switch the host from `from` ("" = nothing live: a first deploy) to `to`:
// stop, upgrade-to, start; or, with refresh commands, upgrade-to, refresh.
// Nothing live yet means nothing to stop, and nothing to refresh: a first
// deploy starts the service.
Steps switch_steps(const StepContext& c, const std::string& to, const std::string& from);

// The health check after a switch (nullopt without service.health). Its
// retries are the client's: the client decides health, batches and rollback.
std::optional<Step> health_step(const StepContext& c, const std::string& to, const std::string& from,
                                double health_timeout_s);

// Put the host back from `from` onto `to`, its previous: every stop line
// (a failure is recorded, and the rest still runs: a failing stop must not
// keep the old version from coming back), rollback-to, then start (never
// refresh: the old version's code is started afresh). The commands see `to`
// as PLUGBOX_VERSION, the version going live.
Steps rollback_steps(const StepContext& c, const std::string& to, const std::string& from);

// The undo of a switch from `live_before` to `version` that got as far as
// `progress`: the full rollback once upgrade-to was sent; only the start of
// the old version when it was stopped but never switched; nothing otherwise.
Steps undo_steps(const StepContext& c, const SwitchProgress& progress, const std::string& live_before,
                 const std::string& version);

// post_upload in V's directory.
Steps post_upload_steps(const StepContext& c, const std::string& version, const std::string& live_before);

}  // namespace plugbox::orchestrator
