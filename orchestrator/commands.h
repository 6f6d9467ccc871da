// The `plugbox` command line is assembled from one registration function per
// command, each in its own cmd_*.cc, so the commands stay independent. What
// they share (loading inputs: inputs.h; the event loop: event_loop.h) lives
// beside them.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/exit_status.h"

namespace CLI {
class App;
}
namespace plugbox::inventory {
struct Diagnostic;
}
namespace plugbox::orchestrator {
class Journal;
struct RunOutcome;
struct ServiceConfig;
struct HookEnv;
}  // namespace plugbox::orchestrator

namespace plugbox::cli {

struct GlobalOptions {
  std::optional<std::string> inventory;     // -i
  std::optional<std::string> service_file;  // -f
};

// A command's exit status, reported by throwing it from its CLI11 callback
// (main() returns it).
[[noreturn]] void finish(orchestrator::ExitStatus status);

// Bad input (docs/DESIGN.md §9): prints each problem on its own line
// (FILE:LINE:COL: when it has a position, else "plugbox: ") and ends the
// command with exit 2.
[[noreturn]] void bad_input(const std::vector<inventory::Diagnostic>& diags);
[[noreturn]] void bad_input(const std::string& line);

// The run's journal (kind: "deploy", "rollback", "gc"); a journal that cannot
// be created is bad input (nothing touched yet).
orchestrator::Journal open_journal(const std::string& kind, const std::string& run_name);
// The end-of-run table (or the JSON result), the journal's place; returns
// the outcome's exit status.
orchestrator::ExitStatus print_outcome(const orchestrator::RunOutcome& o, bool json,
                                       const orchestrator::Journal* journal);

// The hooks run after a deploy or rollback (local_hooks.h), in order, each
// with the service's command timeout; a failure is said on stderr and in the
// journal, and changes nothing of the run's outcome. An empty line: none.
void run_after_hooks(const orchestrator::ServiceConfig& svc,
                     const std::vector<std::pair<std::string, std::string>>& hooks,
                     const orchestrator::HookEnv& env, orchestrator::Journal& journal);

// Each adds its subcommands and sets their callbacks.
void add_inventory_commands(CLI::App& app, GlobalOptions& opts);  // cmd_inventory.cc
void add_exec_command(CLI::App& fleet, GlobalOptions& opts);      // cmd_exec.cc
// fleet deploy, and the service's own `plugbox deploy`.
void add_deploy_commands(CLI::App& app, CLI::App& fleet, GlobalOptions& opts);    // cmd_deploy.cc
// fleet rollback, and the service's own `plugbox rollback`.
void add_rollback_commands(CLI::App& app, CLI::App& fleet, GlobalOptions& opts);  // cmd_rollback.cc
void add_gc_command(CLI::App& fleet, GlobalOptions& opts);         // cmd_gc.cc
void add_status_command(CLI::App& fleet, GlobalOptions& opts);     // cmd_status.cc
void add_prepare_command(CLI::App& app, GlobalOptions& opts);      // cmd_prepare.cc
void add_bootstrap_command(CLI::App& fleet, GlobalOptions& opts);  // cmd_bootstrap.cc
// fleet lock and fleet unlock (the maintenance lock).
void add_lock_commands(CLI::App& fleet, GlobalOptions& opts);      // cmd_lock.cc

}  // namespace plugbox::cli
