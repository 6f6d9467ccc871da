#include "orchestrator/host_state.h"

#include <algorithm>

namespace plugbox::orchestrator {

namespace {

struct Row {
  const char* name;
  Severity severity;
  bool attention;
};

Row row(HostState s) {
  using S = HostState;
  using V = Severity;
  switch (s) {
    case S::unreachable: return {"unreachable", V::failed, true};
    case S::stage_not_begun: return {"stage_not_begun", V::ok, false};
    case S::failed_unchanged: return {"failed_unchanged", V::failed, false};
    case S::unchanged: return {"unchanged", V::ok, false};
    case S::staged_removed: return {"staged_removed", V::ok, false};
    case S::staged_kept: return {"staged_kept", V::ok, false};
    case S::staged_left_behind: return {"staged_left_behind", V::attention, true};
    case S::deployed: return {"deployed", V::ok, false};
    // Tolerated by max_fail: the deploy goes on and succeeds without it.
    case S::failed_tolerated: return {"failed_tolerated", V::ok, false};
    case S::reverted: return {"reverted", V::failed, false};
    case S::revert_failed: return {"revert_failed", V::attention, true};
    case S::rolled_back: return {"rolled_back", V::ok, false};
    case S::would_roll_back: return {"would_roll_back", V::ok, false};
    case S::not_live: return {"not_live", V::ok, false};
    case S::untouched: return {"untouched", V::ok, false};
    case S::already_back: return {"already_back", V::ok, false};
    // The operator asked for the version to go away and it is still live.
    case S::no_previous: return {"no_previous", V::attention, true};
    case S::rollback_unreachable: return {"rollback_unreachable", V::attention, true};
    case S::rollback_refused: return {"rollback_refused", V::attention, true};
    // Left alone on purpose (Ctrl-C); the 130 says so, a second run finishes.
    case S::rollback_not_begun: return {"rollback_not_begun", V::ok, true};
    case S::rollback_failed: return {"rollback_failed", V::attention, true};
    case S::start_failed: return {"start_failed", V::attention, true};
    case S::collected: return {"collected", V::ok, false};
    case S::gc_dry_run: return {"gc_dry_run", V::ok, false};
    case S::nothing_deployed: return {"nothing_deployed", V::ok, false};
    case S::gc_failed: return {"gc_failed", V::failed, true};
    case S::gc_skipped: return {"gc_skipped", V::ok, false};
    // The command was refused as a whole (the locked host says why): failed, nothing half-way.
    case S::held_off: return {"held_off", V::failed, false};
  }
  return {"unknown", V::attention, true};
}

}  // namespace

Severity severity(HostState s) { return row(s).severity; }
bool needs_attention(HostState s) { return row(s).attention; }
const char* name(HostState s) { return row(s).name; }

std::string describe(HostState s, const std::string& v) {
  using S = HostState;
  switch (s) {
    case S::unreachable: return "not reached";
    case S::stage_not_begun: return "unchanged (staging stopped before this host began)";
    case S::failed_unchanged: return "failed (live unchanged)";
    case S::unchanged: return "unchanged";
    case S::staged_removed: return "unchanged (" + v + " removed)";
    case S::staged_kept: return "unchanged (" + v + " staged, not switched)";
    case S::staged_left_behind: return "unchanged (staged " + v + " left behind: remove it or run gc)";
    case S::deployed: return "deployed";
    case S::failed_tolerated: return "rolled back";
    case S::reverted: return "rolled back";
    case S::revert_failed: return "ROLLBACK FAILED";
    case S::rolled_back: return "rolled back";
    case S::would_roll_back: return "would go back to " + v;
    case S::not_live: return "unchanged (live is not " + (v.empty() ? std::string("any version") : v) + ")";
    case S::untouched: return "unchanged (run " + v + " switched nothing here)";
    case S::already_back: return "unchanged (run " + v + " was already rolled back here)";
    case S::no_previous: return "no previous version: stays on " + v;
    case S::rollback_unreachable: return "not reached";
    case S::rollback_refused: return "not rolled back";
    case S::rollback_not_begun: return "not rolled back (interrupted before it began)";
    case S::rollback_failed: return "ROLLBACK FAILED";
    case S::start_failed: return "back on " + v + " but START FAILED";
    case S::collected: return "collected";
    case S::gc_dry_run: return "dry run";
    case S::nothing_deployed: return "nothing deployed";
    case S::gc_failed: return "gc failed";
    case S::gc_skipped: return "skipped (interrupted)";
    case S::held_off: return "unchanged (a selected host is locked for maintenance)";
  }
  return "unknown";
}

ExitStatus exit_status(const std::vector<HostState>& states, bool interrupted) {
  auto any = [&](Severity v) {
    return std::any_of(states.begin(), states.end(), [v](HostState s) { return severity(s) == v; });
  };
  if (any(Severity::attention)) return ExitStatus::incomplete;
  if (interrupted) return ExitStatus::interrupted;
  if (any(Severity::failed)) return ExitStatus::failed;
  return ExitStatus::ok;
}

}  // namespace plugbox::orchestrator
