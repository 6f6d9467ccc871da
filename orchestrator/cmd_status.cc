// `plugbox fleet status`: per host, live, previous, versions, lock, reachable
// (status_run.h). Read-only: no lock, no journal.
#include <CLI/CLI.hpp>
#include <iostream>

#include "orchestrator/commands.h"
#include "orchestrator/event_loop.h"
#include "orchestrator/inputs.h"
#include "orchestrator/status_run.h"

namespace plugbox::cli {
namespace {

namespace orch = plugbox::orchestrator;

orch::ExitStatus status(const GlobalOptions& g, SelectOptions& sel) {
  Loaded l = load(g, sel, false);
  auto hosts = l.plan_hosts("plugbox-status");
  orch::Journal journal;
  auto reporter = orch::make_reporter(orch::OutputMode::lines, stderr);
  const orch::DeployConfig d = l.service ? l.service->deploy : orch::DeployConfig{};
  boost::asio::io_context io;
  auto t = orch::make_fleet_transport(io.get_executor(), l.host_sessions);
  orch::Interrupt interrupt;
  orch::FleetContext ctx{*t, hosts, *reporter, journal, interrupt, sel.parallel, 60, d.connect_timeout};
  std::vector<orch::HostStatusRow> rows;
  auto task = [&]() -> transport::Awaitable<void> { rows = co_await orch::fleet_status(ctx); };
  orch::run_loop(io, *t, interrupt, task);
  if (sel.json) std::cout << orch::status_rows_json(rows).dump(2) << std::endl;
  else std::cout << orch::render_status_table(rows);
  return orch::status_exit(rows);
}

}  // namespace

void add_status_command(CLI::App& fleet, GlobalOptions& g) {
  auto args = std::make_shared<SelectOptions>();
  auto* st = fleet.add_subcommand("status", "Per host: live, previous, versions, lock, reachable");
  add_select(st, *args);
  st->add_flag("--json", args->json, "A JSON array, one object per host");
  st->callback([&g, args] { finish(status(g, *args)); });
}

}  // namespace plugbox::cli
