// `plugbox fleet lock --message TEXT` and `plugbox fleet unlock [--force]`:
// the maintenance lock on every selected host, with a table of what was done
// (lock_run.h).
#include <CLI/CLI.hpp>
#include <iostream>

#include "base/lock_message.h"
#include "orchestrator/commands.h"
#include "orchestrator/event_loop.h"
#include "orchestrator/inputs.h"
#include "orchestrator/lock_run.h"
#include "orchestrator/run_identity.h"

namespace plugbox::cli {
namespace {

namespace orch = plugbox::orchestrator;

struct LockArgs {
  SelectOptions sel;
  std::string message;
  bool force = false;
};

// kind: "lock" | "unlock". Every argument is checked before any host is touched.
orch::ExitStatus lock_or_unlock(const GlobalOptions& g, LockArgs& a, const std::string& kind) {
  // Never the service file's default group: which hosts a maintenance window
  // covers is said each time.
  if (a.sel.groups.empty() && a.sel.hosts.empty())
    bad_input("fleet " + kind + " needs the hosts: --group G or --host H (nothing was " + kind + "ed)");
  if (kind == "lock")
    if (auto p = base::lock_message_problem(a.message)) bad_input("fleet lock --message: " + *p);
  Loaded l = load(g, a.sel, false);
  const std::string run_name = fresh_run_name(kind);
  // The holder is the operator (user@machine), not this run: the same
  // operator unlocks later from another run without --force.
  auto hosts = l.plan_hosts(whoami());
  orch::Journal journal = open_journal(kind, run_name);
  auto reporter = orch::make_reporter(orch::OutputMode::lines, stderr);
  const orch::DeployConfig d = l.service ? l.service->deploy : orch::DeployConfig{};
  boost::asio::io_context io;
  auto t = orch::make_fleet_transport(io.get_executor(), l.host_sessions);
  orch::Interrupt interrupt;
  orch::FleetContext ctx{*t, hosts, *reporter, journal, interrupt, a.sel.parallel, d.command_timeout, d.connect_timeout};
  std::vector<orch::LockRow> rows;
  auto task = [&]() -> transport::Awaitable<void> {
    if (kind == "lock") {
      std::string message = a.message;
      rows = co_await orch::fleet_lock(ctx, message);
    } else {
      rows = co_await orch::fleet_unlock(ctx, a.force);
    }
  };
  orch::run_loop(io, *t, interrupt, task);
  reporter->finish();
  const orch::ExitStatus exit = orch::lock_exit(rows);
  journal.record_end(orch::code(exit), exit == orch::ExitStatus::ok ? kind + "ed" : kind + " failed on some hosts");
  if (a.sel.json) {
    std::cout << orch::lock_rows_json(rows).dump(2) << std::endl;
  } else {
    std::cout << orch::render_lock_table(rows);
    if (journal.enabled()) std::cout << "journal: " << journal.dir().string() << "\n";
  }
  return exit;
}

}  // namespace

void add_lock_commands(CLI::App& fleet, GlobalOptions& g) {
  auto lock_args = std::make_shared<LockArgs>();
  auto* lock = fleet.add_subcommand(
      "lock",
      "Lock the selected hosts for maintenance: every deploy, rollback and gc there is refused, naming you, the "
      "message and how long, until `fleet unlock`; prints host, action");
  add_select(lock, lock_args->sel);
  lock->add_option("--message", lock_args->message, "Why the hosts are locked (shown to everyone refused)")
      ->required();
  lock->add_flag("--json", lock_args->sel.json, "A JSON array, one object per host");
  lock->callback([&g, lock_args] { finish(lock_or_unlock(g, *lock_args, "lock")); });

  auto unlock_args = std::make_shared<LockArgs>();
  auto* unlock = fleet.add_subcommand(
      "unlock", "End the maintenance lock you hold on the selected hosts (someone else's: --force); prints host, action");
  add_select(unlock, unlock_args->sel);
  unlock->add_flag("--force", unlock_args->force, "End it whoever holds it");
  unlock->add_flag("--json", unlock_args->sel.json, "A JSON array, one object per host");
  unlock->callback([&g, unlock_args] { finish(lock_or_unlock(g, *unlock_args, "unlock")); });
}

}  // namespace plugbox::cli
