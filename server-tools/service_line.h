// One service line (a stop, start or health command the operator wrote) run
// on the host the way plugbox promises: by /bin/sh, in a process group of its
// own, and killed with every child it left behind when its timeout runs out.
// The switch transaction runs its shell steps with it, and `plugbox-server
// run` runs a client's health check with it, so a check that hangs with a
// child in the background does not outlive its timeout (docs/DESIGN.md §7).
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "base/unique_fd.h"

namespace plugbox::server {

struct ServiceLine {
  std::string shell;  // run by /bin/sh -c
  std::vector<std::pair<std::string, std::string>> env;
  std::string cwd;  // "" for the current directory
  double timeout_s = 300;
};

// What a step did: a service line, or in a transaction a chain step.
struct StepResult {
  bool ok = false;
  int exit = -1;       // the exit status; -1 when it has none
  int signal = 0;      // the signal that ended it, if one did
  std::string output;  // the tail of stdout and stderr
  std::string error;   // one line: why it failed
  bool timed_out = false;
};

// Runs the line to its end or its timeout. The step ends when its shell
// exits, not when its output closes: a start line may leave the service
// running in the background, holding that output, and it goes on running.
// Only a line past its timeout has its group killed (TERM, then KILL after
// a 2 s grace).
StepResult run_service_line(const ServiceLine& line);

// A child with a pipe whose write end it reports on (the parent reads rd).
struct Forked {
  pid_t pid;
  base::UniqueFd rd, wr;
};
// fork() with that pipe, both ends close-on-exec; throws ServerError.
Forked fork_with_pipe();

}  // namespace plugbox::server
