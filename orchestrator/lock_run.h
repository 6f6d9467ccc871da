// `plugbox fleet lock --message TEXT` and `plugbox fleet unlock [--force]`:
// the maintenance lock (server-tools/hold.h) placed on, or removed from,
// every selected host, as this operator (whoami(): user@machine). The
// table says, per host, what was done; a host that failed says why in one
// line (e.g. a deploy holds its deploy lock now, or someone else holds the
// maintenance lock).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "orchestrator/exit_status.h"
#include "orchestrator/fleet_context.h"

namespace plugbox::orchestrator {

struct LockRow {
  std::string host;
  // locked, still locked (it was ours: message replaced), unlocked, not
  // locked (there was none), failed, unreachable, skipped (Ctrl-C)
  std::string action;
  std::string error;  // when failed, unreachable or skipped: one line
};

// `message`: what `fleet lock` records. The hosts are made ready first as a
// deploy's would be (server, layout), so a fresh host can be locked too.
transport::Awaitable<std::vector<LockRow>> fleet_lock(FleetContext ctx, std::string message);
transport::Awaitable<std::vector<LockRow>> fleet_unlock(FleetContext ctx, bool force);
std::string render_lock_table(const std::vector<LockRow>& rows);
nlohmann::json lock_rows_json(const std::vector<LockRow>& rows);
// 0 when every host is as asked, 1 otherwise.
ExitStatus lock_exit(const std::vector<LockRow>& rows);

}  // namespace plugbox::orchestrator
