// Where a host stands at the end of a fleet command, as one value. The
// display text, whether the host needs an operator, and the command's exit
// status are all functions of it (tests/orchestrator/host_state_test.cc holds
// the table), so no decision is ever taken by comparing display text.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/exit_status.h"

namespace plugbox::orchestrator {

enum class HostState {
  // deploy
  unreachable,         // could not be connected to (any command)
  stage_not_begun,     // staging stopped (a failure elsewhere, Ctrl-C) before this host began
  failed_unchanged,        // this run's work here failed before anything live changed
  unchanged,           // nothing of this run changed the host
  staged_removed,      // V was staged here, then removed again (the run failed elsewhere)
  staged_kept,         // V is staged and ready here but was never switched to
  staged_left_behind,  // V was staged here and could not be removed
  deployed,            // live on V, healthy
  failed_tolerated,    // its switch failed within max_fail; back on its previous
  reverted,            // switched, then put back with the fleet
  revert_failed,       // could not be put back: live on V, or stopped
  // rollback
  rolled_back,         // back on its previous, started
  would_roll_back,     // --dry-run: would go back
  not_live,            // the version being rolled back is not live here
  untouched,           // the run being undone switched nothing here
  already_back,        // the run being undone was already undone here
  no_previous,         // the version is live here but has no previous to go back to
  rollback_unreachable,  // might need to go back, could not be reached
  rollback_refused,      // reached, but the lock or its status could not be had
  rollback_not_begun,    // interrupted before its rollback began
  rollback_failed,       // rollback-to failed: still on the version
  start_failed,          // back on its previous, but start failed
  // gc
  collected,
  gc_dry_run,
  nothing_deployed,
  gc_failed,
  gc_skipped,  // interrupted before gc began there
  // rollback, gc
  held_off,  // left alone: another selected host is locked for maintenance
};

// How a state weighs in the exit status.
enum class Severity {
  ok,         // where the command meant to leave it, or untouched by a failure elsewhere
  failed,     // the command failed here, and left nothing half-way
  attention,  // not where it should be: an operator must look (exit 3)
};

Severity severity(HostState s);
// Whether the result marks the host for an operator. Every `attention` state,
// and the failures whose host deserves a look (unreachable, a failed gc, a
// rollback interrupted before it began).
bool needs_attention(HostState s);

// The text shown in the results table and the JSON "state". `subject` is the
// version the text names: the deploy's V, the previous a rollback goes back
// to (would_roll_back, start_failed) or the version rolled back from
// (not_live, no_previous); "" where the text names none.
std::string describe(HostState s, const std::string& subject = "");
// The enumerator's name ("revert_failed"), for JSON and the journal.
const char* name(HostState s);

// One function from the hosts' states to the command's exit status: any
// state needing attention -> incomplete (3); else interrupted -> 130; else
// any failure -> 1; else 0.
ExitStatus exit_status(const std::vector<HostState>& states, bool interrupted);

}  // namespace plugbox::orchestrator
