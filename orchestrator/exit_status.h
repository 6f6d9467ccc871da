// The exit statuses of every plugbox command (docs/DESIGN.md §9). They live
// here, below the command line, because the executors decide them: from the
// states their hosts end in (host_state.h), never from display text.
#pragma once

namespace plugbox::orchestrator {

enum class ExitStatus : int {
  ok = 0,
  // The command failed and left nothing half-way: a deploy rolled back
  // cleanly or never switched, a prepare, exec, status or gc that failed.
  failed = 1,
  bad_input = 2,  // refused before anything was touched
  // A host is not where it should be: a rollback or cleanup that could not be
  // finished, or a host that must be rolled back and could not be reached.
  incomplete = 3,
  interrupted = 130,  // Ctrl-C: nothing new started; what was begun was finished or undone
};

inline int code(ExitStatus s) { return static_cast<int>(s); }

}  // namespace plugbox::orchestrator
