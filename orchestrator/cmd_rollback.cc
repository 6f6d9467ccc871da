// `plugbox fleet rollback` and the service's own `plugbox rollback` (its
// [deploy] group): put each host whose live version is V back on its
// previous (rollback_run.h).
#include <CLI/CLI.hpp>

#include "orchestrator/commands.h"
#include "orchestrator/event_loop.h"
#include "orchestrator/inputs.h"
#include "orchestrator/local_hooks.h"
#include "orchestrator/rollback_run.h"
#include "orchestrator/run_identity.h"

namespace plugbox::cli {
namespace {

namespace orch = plugbox::orchestrator;

struct RollbackArgs {
  SelectOptions sel;
  std::optional<std::string> from;
  bool dry_run = false;
};

orch::ExitStatus rollback(const GlobalOptions& g, RollbackArgs& a, const std::string& default_group) {
  // A version name is a UTC second; anything else (../etc) is a typo, told in
  // one line before any host is touched.
  if (a.from && !orch::is_version_name(*a.from))
    bad_input("--from: '" + *a.from + "' is not a version name (YYYY-MM-DDTHH:MM:SS, as `plugbox fleet status` shows)");
  Loaded l = load(g, a.sel, false, default_group);
  std::string run_name = a.dry_run ? orch::version_now() : fresh_run_name("rollback");
  auto hosts = l.plan_hosts(owner_id("rollback", run_name));
  orch::Journal journal = a.dry_run ? orch::Journal() : open_journal("rollback", run_name);
  auto reporter = orch::make_reporter(orch::pick_output_mode(a.sel.json));
  // Without a service file there are no stop/start lines: only links move.
  const orch::ServiceConfig service = l.service.value_or(orch::ServiceConfig{});
  boost::asio::io_context io;
  auto t = orch::make_fleet_transport(io.get_executor(), l.host_sessions);
  orch::Interrupt interrupt;
  orch::FleetContext ctx{*t, hosts, *reporter, journal, interrupt, a.sel.parallel, service.deploy.command_timeout,
                         service.deploy.connect_timeout};
  orch::RunOutcome outcome;
  // Named, not a temporary in the co_await expression: g++ 12 destroys such
  // temporaries twice (NOTES-toolchain).
  std::vector<std::string> names;
  for (const auto& h : hosts) names.push_back(h.name);
  const orch::RollbackOptions opts{a.from, a.dry_run, l.service ? orch::Journal::newest_deploy(l.service->name, names) : ""};
  auto task = [&]() -> transport::Awaitable<void> { outcome = co_await orch::fleet_rollback(ctx, service, opts); };
  orch::run_loop(io, *t, interrupt, task);
  reporter->finish();
  journal.record_end(orch::code(outcome.exit), outcome.summary);
  const orch::ExitStatus exit = print_outcome(outcome, a.sel.json, &journal);
  if (!a.dry_run) {
    const bool ok = outcome.exit == orch::ExitStatus::ok;
    run_after_hooks(service, {{"after_rollback", service.hooks.after_rollback}, {"on_failure", ok ? "" : service.hooks.on_failure}},
                    orch::hook_env_after(service, "", outcome, journal.enabled() ? journal.dir().string() : ""), journal);
  }
  return exit;
}

}  // namespace

void add_rollback_commands(CLI::App& app, CLI::App& fleet, GlobalOptions& g) {
  auto args = std::make_shared<RollbackArgs>();
  auto* r = fleet.add_subcommand("rollback", "Undo the last run that changed the selected hosts: each host it switched goes back (stop, switch, start)");
  add_select(r, args->sel);
  r->add_option("--from", args->from,
                "Put back every host whose live version is V (default: undo the last run that changed these hosts, "
                "from their records)");
  r->add_flag("--dry-run", args->dry_run, "Read where hosts stand and print what would run; change nothing");
  r->add_flag("--json", args->sel.json, "Events as JSON lines");
  r->callback([&g, args] { finish(rollback(g, *args, "")); });

  auto own = std::make_shared<RollbackArgs>();
  auto* pr = app.add_subcommand("rollback", "Put the service's [deploy] group back on its previous version");
  pr->add_flag("--dry-run", own->dry_run, "Print what would run; change nothing");
  pr->add_flag("--json", own->sel.json, "Events as JSON lines");
  pr->callback([&g, own] {
    orch::ServiceConfig svc = load_service(g);
    if (svc.deploy.group.empty()) bad_input(svc.file.string() + ": deploy.group is not set: add it under [deploy]");
    finish(rollback(g, *own, svc.deploy.group));
  });
}

}  // namespace plugbox::cli
