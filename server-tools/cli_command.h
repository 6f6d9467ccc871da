// One plugbox-server command as the command line runs it. run_server_cli
// (server_cli.cc) owns what all commands share (the global options, parsing,
// the exit statuses and the one-line messages); each command owns its name,
// help line and options, the checks of its own arguments, and its work.
//
// The order is the promise of server_cli.h: every command's check_args runs
// before the home is even resolved, so bad input (exit 2) never looks at, let
// alone changes, the disk.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server-tools/layout.h"
#include "server-tools/lock.h"
#include "server-tools/oplog.h"
#include "server-tools/server_cli.h"

namespace CLI {
class App;
}

namespace plugbox::server {

// What a command runs with once its arguments passed.
struct CommandContext {
  const Layout& layout;
  const LockRequest& lock;  // --owner (or $PLUGBOX_LOCK_OWNER) and --wait
  const Actor& actor;       // recorded in the operation log
  CliEnv& env;
};

class CliCommand {
 public:
  // `name` is the command word ("seal"), `help` its line in --help. Both are
  // kept as pointers, so they must outlive the command (literals do).
  CliCommand(const char* name, const char* help) : name_(name), help_(help) {}
  virtual ~CliCommand() = default;
  const char* name() const { return name_; }
  // Registers the subcommand (name, help line) on `app`, then its options.
  // Not virtual, so the word --help lists and the one run_server_cli looks the
  // command up by are the same by construction.
  void add_to(CLI::App& app);
  // Throws bad_input for arguments that could never succeed. `owner` is the
  // deploy-lock owner the command runs as ("" for none).
  virtual void check_args(const std::string& owner) { (void)owner; }
  // Does the work; returns the exit status (failures throw ServerError).
  virtual int run(const CommandContext& ctx) = 0;

 private:
  // The command's own options and positionals, on its subcommand `sub`; the
  // default adds none, for commands that take only the global options.
  // Private: only add_to calls it, once the subcommand exists.
  virtual void add_options(CLI::App& sub) { (void)sub; }

  const char* name_;
  const char* help_;
};

// Every command, in the order `plugbox-server --help` lists them.
std::vector<std::unique_ptr<CliCommand>> server_commands();

// Throws bad_input naming the fix unless `layout` is a plugbox layout: the
// first step of every command that works on an existing one.
void require_layout(const Layout& layout);

// Prints each warning on stderr as one line, "plugbox-server CMD: warning:
// ...": a change that was made but not fully recorded still exits 0.
void print_warnings(const CommandContext& ctx, const char* command, const std::vector<std::string>& warnings);

// One factory per command (or family), each in its cli_*.cc file.
std::unique_ptr<CliCommand> make_init_command();
std::unique_ptr<CliCommand> make_next_version_command();
std::unique_ptr<CliCommand> make_seal_command();
std::unique_ptr<CliCommand> make_upgrade_to_command();
std::unique_ptr<CliCommand> make_rollback_to_command();
std::unique_ptr<CliCommand> make_remove_command();
std::unique_ptr<CliCommand> make_gc_command();
std::unique_ptr<CliCommand> make_status_command();
std::unique_ptr<CliCommand> make_lock_command();
std::unique_ptr<CliCommand> make_hold_command();     // cli_hold.cc
std::unique_ptr<CliCommand> make_release_command();  // cli_hold.cc
std::unique_ptr<CliCommand> make_verify_command();
std::unique_ptr<CliCommand> make_receive_command();
std::unique_ptr<CliCommand> make_relay_command();  // cli_relay.cc: fan-out
std::unique_ptr<CliCommand> make_switch_command();  // cli_switch.cc
std::unique_ptr<CliCommand> make_run_command();
std::unique_ptr<CliCommand> make_session_command();

}  // namespace plugbox::server
