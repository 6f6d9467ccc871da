// The service's [hooks] (plugbox.toml): shell lines run here, on the
// operator's machine, around a deploy or a rollback, for notifications (a
// chat message is one curl line) and gates (a change freeze). What they get
// is in their environment (hook_environment). Their output goes to stderr:
// stdout is kept for --json events.
//
// Why here and not on the hosts: a notification or a gate is about the run,
// not about one host, and the operator's machine is where the run is.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/run_outcome.h"
#include "orchestrator/service_config.h"

namespace plugbox::orchestrator {

// What a hook learns of the run.
struct HookEnv {
  std::string service;
  std::string version;   // a deploy's version; a rollback's live versions after it
  std::string previous;  // the selected hosts' live versions before the run ("" before any host was read)
  std::string hosts;     // the selected hosts' names
  std::string result;    // "" before the run; then ok, failed, incomplete or interrupted
  std::string summary;   // the run's one-line summary ("" before it)
  std::string journal;   // the run's journal directory ("" when it has none yet)
};

// PLUGBOX_SERVICE, PLUGBOX_VERSION, PLUGBOX_PREVIOUS, PLUGBOX_HOSTS,
// PLUGBOX_RESULT, PLUGBOX_SUMMARY, PLUGBOX_JOURNAL, in that order. Lists are
// space-separated, each name once.
std::vector<std::pair<std::string, std::string>> hook_environment(const HookEnv& env);

// The environment after a run: `version` for a deploy ("" for a rollback,
// whose hosts' live versions after it are used).
HookEnv hook_env_after(const ServiceConfig& svc, const std::string& version, const RunOutcome& outcome,
                       const std::string& journal_dir);
// The selected hosts' names, space-separated.
std::string host_list(const std::vector<std::string>& names);
// ExitStatus as PLUGBOX_RESULT says it.
std::string result_word(ExitStatus s);

// Runs `line` with /bin/sh in `cwd`, with `env` added, in a process group of
// its own: at `timeout_s` the group gets SIGTERM, then SIGKILL 2 s later
// (whatever it started in the background too). A SIGINT or SIGTERM to plugbox
// meanwhile ends it the same way.
struct HookResult {
  bool ok = true;
  bool interrupted = false;  // plugbox got SIGINT or SIGTERM while it ran
  // When not ok, one line: "hook NAME (`LINE`) exited 3", "... timed out
  // after S s (its process group was killed)", "... was interrupted".
  std::string error;
};
HookResult run_hook(const std::string& name, const std::string& line, const HookEnv& env,
                    const std::filesystem::path& cwd, double timeout_s);

}  // namespace plugbox::orchestrator
