#include <catch2/catch.hpp>

#include "orchestrator/host_state.h"

using namespace plugbox::orchestrator;
using S = HostState;

TEST_CASE("every host state has its severity, its attention mark and its text") {
  struct Row {
    HostState state;
    Severity severity;
    bool attention;
    const char* text;  // with subject "V"
  };
  const std::vector<Row> table = {
      {S::unreachable, Severity::failed, true, "not reached"},
      {S::stage_not_begun, Severity::ok, false, "unchanged (staging stopped before this host began)"},
      {S::failed_unchanged, Severity::failed, false, "failed (live unchanged)"},
      {S::unchanged, Severity::ok, false, "unchanged"},
      {S::staged_removed, Severity::ok, false, "unchanged (V removed)"},
      {S::staged_kept, Severity::ok, false, "unchanged (V staged, not switched)"},
      {S::staged_left_behind, Severity::attention, true, "unchanged (staged V left behind: remove it or run gc)"},
      {S::deployed, Severity::ok, false, "deployed"},
      {S::failed_tolerated, Severity::ok, false, "rolled back"},
      {S::reverted, Severity::failed, false, "rolled back"},
      {S::revert_failed, Severity::attention, true, "ROLLBACK FAILED"},
      {S::rolled_back, Severity::ok, false, "rolled back"},
      {S::would_roll_back, Severity::ok, false, "would go back to V"},
      {S::not_live, Severity::ok, false, "unchanged (live is not V)"},
      {S::untouched, Severity::ok, false, "unchanged (run V switched nothing here)"},
      {S::already_back, Severity::ok, false, "unchanged (run V was already rolled back here)"},
      {S::no_previous, Severity::attention, true, "no previous version: stays on V"},
      {S::rollback_unreachable, Severity::attention, true, "not reached"},
      {S::rollback_refused, Severity::attention, true, "not rolled back"},
      {S::rollback_not_begun, Severity::ok, true, "not rolled back (interrupted before it began)"},
      {S::rollback_failed, Severity::attention, true, "ROLLBACK FAILED"},
      {S::start_failed, Severity::attention, true, "back on V but START FAILED"},
      {S::collected, Severity::ok, false, "collected"},
      {S::gc_dry_run, Severity::ok, false, "dry run"},
      {S::nothing_deployed, Severity::ok, false, "nothing deployed"},
      {S::gc_failed, Severity::failed, true, "gc failed"},
      {S::gc_skipped, Severity::ok, false, "skipped (interrupted)"},
      {S::held_off, Severity::failed, false, "unchanged (a selected host is locked for maintenance)"},
  };
  for (const auto& r : table) {
    INFO(name(r.state));
    CHECK(severity(r.state) == r.severity);
    CHECK(needs_attention(r.state) == r.attention);
    CHECK(describe(r.state, "V") == r.text);
  }
  CHECK(describe(S::not_live, "") == "unchanged (live is not any version)");
}

TEST_CASE("the exit status is a function of the hosts' states") {
  struct Row {
    std::vector<HostState> states;
    bool interrupted;
    ExitStatus expected;
  };
  const std::vector<Row> table = {
      {{}, false, ExitStatus::ok},
      {{S::deployed, S::deployed}, false, ExitStatus::ok},
      // A failure within max_fail: the deploy succeeded without that host.
      {{S::deployed, S::failed_tolerated}, false, ExitStatus::ok},
      {{S::failed_tolerated, S::revert_failed}, false, ExitStatus::incomplete},
      // Staging failed on one host; V removed from the others.
      {{S::failed_unchanged, S::staged_removed, S::stage_not_begun}, false, ExitStatus::failed},
      {{S::unreachable, S::staged_removed}, false, ExitStatus::failed},
      {{S::failed_unchanged, S::staged_left_behind}, false, ExitStatus::incomplete},
      // A batch over max_fail: the fleet went back.
      {{S::reverted, S::reverted, S::staged_kept}, false, ExitStatus::failed},
      {{S::reverted, S::revert_failed}, false, ExitStatus::incomplete},
      // Ctrl-C: 130 when everything was put back, 3 when something was not.
      {{S::reverted, S::staged_kept}, true, ExitStatus::interrupted},
      {{S::staged_removed, S::stage_not_begun}, true, ExitStatus::interrupted},
      {{S::revert_failed}, true, ExitStatus::incomplete},
      // fleet rollback
      {{S::rolled_back, S::not_live}, false, ExitStatus::ok},
      {{S::already_back, S::untouched}, false, ExitStatus::ok},
      {{S::would_roll_back}, false, ExitStatus::ok},
      {{S::rolled_back, S::rollback_unreachable}, false, ExitStatus::incomplete},
      {{S::rollback_unreachable}, false, ExitStatus::incomplete},
      {{S::rolled_back, S::rollback_refused}, false, ExitStatus::incomplete},
      {{S::no_previous}, false, ExitStatus::incomplete},
      {{S::rolled_back, S::start_failed}, false, ExitStatus::incomplete},
      {{S::rolled_back, S::rollback_not_begun}, true, ExitStatus::interrupted},
      {{S::rollback_failed, S::rollback_not_begun}, true, ExitStatus::incomplete},
      // fleet gc
      {{S::collected, S::nothing_deployed, S::gc_dry_run}, false, ExitStatus::ok},
      {{S::collected, S::gc_failed}, false, ExitStatus::failed},
      {{S::collected, S::unreachable}, false, ExitStatus::failed},
      {{S::collected, S::gc_skipped}, true, ExitStatus::interrupted},
  };
  for (std::size_t i = 0; i < table.size(); ++i) {
    INFO("row " << i);
    CHECK(exit_status(table[i].states, table[i].interrupted) == table[i].expected);
  }
}
