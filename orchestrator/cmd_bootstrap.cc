// `plugbox fleet bootstrap`: plugbox's server installed and the layout made
// on every selected host, with a table of what was done (bootstrap_run.h).
#include <CLI/CLI.hpp>
#include <iostream>

#include "orchestrator/bootstrap_run.h"
#include "orchestrator/commands.h"
#include "orchestrator/event_loop.h"
#include "orchestrator/inputs.h"
#include "orchestrator/run_identity.h"

namespace plugbox::cli {
namespace {

namespace orch = plugbox::orchestrator;

orch::ExitStatus bootstrap(const GlobalOptions& g, SelectOptions& sel) {
  Loaded l = load(g, sel, false);
  const std::string run_name = fresh_run_name("bootstrap");
  auto hosts = l.plan_hosts(owner_id("bootstrap", run_name));
  orch::Journal journal = open_journal("bootstrap", run_name);
  auto reporter = orch::make_reporter(orch::OutputMode::lines, stderr);
  const orch::DeployConfig d = l.service ? l.service->deploy : orch::DeployConfig{};
  boost::asio::io_context io;
  auto t = orch::make_fleet_transport(io.get_executor(), l.host_sessions);
  orch::Interrupt interrupt;
  orch::FleetContext ctx{*t, hosts, *reporter, journal, interrupt, sel.parallel, d.command_timeout, d.connect_timeout};
  std::vector<orch::BootstrapRow> rows;
  auto task = [&]() -> transport::Awaitable<void> { rows = co_await orch::fleet_bootstrap(ctx); };
  orch::run_loop(io, *t, interrupt, task);
  reporter->finish();
  const orch::ExitStatus exit = orch::bootstrap_exit(rows);
  journal.record_end(orch::code(exit), exit == orch::ExitStatus::ok ? "bootstrapped" : "bootstrap failed on some hosts");
  if (sel.json) {
    std::cout << orch::bootstrap_rows_json(rows).dump(2) << std::endl;
  } else {
    std::cout << orch::render_bootstrap_table(rows);
    if (journal.enabled()) std::cout << "journal: " << journal.dir().string() << "\n";
  }
  return exit;
}

}  // namespace

void add_bootstrap_command(CLI::App& fleet, GlobalOptions& g) {
  auto args = std::make_shared<SelectOptions>();
  auto* b = fleet.add_subcommand("bootstrap",
                                 "Install plugbox's plugbox-server where it is missing or of another version, and "
                                 "create the layout, on every selected host; prints host, architecture, server, action");
  add_select(b, *args);
  b->add_flag("--json", args->json, "A JSON array, one object per host");
  b->callback([&g, args] { finish(bootstrap(g, *args)); });
}

}  // namespace plugbox::cli
