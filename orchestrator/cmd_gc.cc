// `plugbox fleet gc`: old versions removed on every selected host (gc_run.h).
#include <CLI/CLI.hpp>

#include "orchestrator/commands.h"
#include "orchestrator/event_loop.h"
#include "orchestrator/gc_run.h"
#include "orchestrator/inputs.h"
#include "orchestrator/run_identity.h"

namespace plugbox::cli {
namespace {

namespace orch = plugbox::orchestrator;

struct GcArgs {
  SelectOptions sel;
  std::optional<int> keep;
  bool dry_run = false;
};

orch::ExitStatus gc(const GlobalOptions& g, GcArgs& a) {
  Loaded l = load(g, a.sel, false);
  int keep = a.keep.value_or(l.service ? l.service->deploy.keep : 5);
  std::string run_name = a.dry_run ? orch::version_now() : fresh_run_name("gc");
  auto hosts = l.plan_hosts(owner_id("gc", run_name));
  orch::Journal journal = a.dry_run ? orch::Journal() : open_journal("gc", run_name);
  auto reporter = orch::make_reporter(orch::pick_output_mode(a.sel.json));
  const orch::DeployConfig d = l.service ? l.service->deploy : orch::DeployConfig{};
  boost::asio::io_context io;
  auto t = orch::make_fleet_transport(io.get_executor(), l.host_sessions);
  orch::Interrupt interrupt;
  orch::FleetContext ctx{*t, hosts, *reporter, journal, interrupt, a.sel.parallel, d.command_timeout, d.connect_timeout};
  orch::RunOutcome outcome;
  auto task = [&]() -> transport::Awaitable<void> { outcome = co_await orch::fleet_gc(ctx, keep, a.dry_run); };
  orch::run_loop(io, *t, interrupt, task);
  reporter->finish();
  journal.record_end(orch::code(outcome.exit), outcome.summary);
  return print_outcome(outcome, a.sel.json, &journal);
}

}  // namespace

void add_gc_command(CLI::App& fleet, GlobalOptions& g) {
  auto args = std::make_shared<GcArgs>();
  auto* gc_cmd = fleet.add_subcommand("gc", "Remove old versions on every selected host, keeping the N newest, live and its previous");
  add_select(gc_cmd, args->sel);
  gc_cmd->add_option("--keep", args->keep, "Versions to keep (at least 2; default: the service file's keep)")
      ->check(CLI::Range(2, 1000000));
  gc_cmd->add_flag("--dry-run", args->dry_run, "Print what each host would remove; change nothing");
  gc_cmd->add_flag("--json", args->sel.json, "Events as JSON lines");
  gc_cmd->callback([&g, args] { finish(gc(g, *args)); });
}

}  // namespace plugbox::cli
