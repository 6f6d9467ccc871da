// The `plugbox` command line is assembled from one registration function per
// command family, each in its own cmd_*.cc, so the families stay independent.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}
namespace plugbox::inventory {
struct Diagnostic;
}

namespace plugbox::cli {

// DESIGN §5 exit statuses, shared by every command.
enum ExitCode : int {
  kOk = 0,
  kFailedRolledBack = 1,
  kBadInput = 2,
  kRollbackIncomplete = 3,
  kInterrupted = 130,
};

struct GlobalOptions {
  std::optional<std::string> inventory;     // -i
  std::optional<std::string> service_file;  // -f
};

// Bad input (DESIGN §5): prints each problem on its own line (FILE:LINE:COL:
// when it has a position, else "plugbox: ") and ends the command with exit 2.
[[noreturn]] void bad_input(const std::vector<inventory::Diagnostic>& diags);
[[noreturn]] void bad_input(const std::string& line);

// Each adds its subcommands and sets their callbacks. A callback reports its
// exit status by throwing CLI::RuntimeError(code) (0 is success).
void add_inventory_commands(CLI::App& app, GlobalOptions& opts);  // cmd_inventory.cc
void add_fleet_exec_command(CLI::App& fleet, GlobalOptions& opts);  // cmd_exec.cc
// fleet deploy|rollback|gc|status, and the service's own deploy|rollback|prepare.
void add_fleet_commands(CLI::App& app, CLI::App& fleet, GlobalOptions& opts);  // cmd_fleet.cc

}  // namespace plugbox::cli
