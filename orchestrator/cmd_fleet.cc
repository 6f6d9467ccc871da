// `plugbox fleet deploy | rollback | gc | status` and the service's own
// `plugbox deploy | rollback | prepare` (DESIGN §5, §8). Loads and validates
// every input first (exit 2, nothing touched), then hands a plan to the
// executor on one io_context.
#include <CLI/CLI.hpp>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdlib>
#include <iostream>

#include "inventory/inventory.h"
#include "orchestrator/commands.h"
#include "orchestrator/deploy_run.h"
#include "orchestrator/fleet_ops.h"
#include "orchestrator/fleet_transport.h"
#include "orchestrator/planner.h"
#include "orchestrator/service_config.h"
#include "upload/client/blob_store.h"
#include "upload/client/manifest_builder.h"

namespace plugbox::cli {
namespace {

namespace inv = plugbox::inventory;
namespace orch = plugbox::orchestrator;
namespace asio = boost::asio;

struct SelectOptions {
  std::vector<std::string> groups, hosts;
  int parallel = 50;
  bool json = false;
};

void add_select(CLI::App* c, SelectOptions& s) {
  c->add_option("-g,--group", s.groups, "Hosts of group G (its children included); repeatable");
  c->add_option("--host", s.hosts, "Hosts by name or glob ('web0*'), comma-separated")->delimiter(',');
  c->add_option("--parallel", s.parallel, "Hosts worked on at once (default 50)")->check(CLI::Range(1, 10000));
}

struct Loaded {
  inv::Inventory inventory;
  std::vector<const inv::Host*> hosts;
  std::optional<orch::ServiceConfig> service;
};

// Inventory, selection and (when `need_service`, or when present) the
// service file. Any problem: every message, exit 2.
Loaded load(const GlobalOptions& g, SelectOptions& sel, bool need_service, const std::string& default_group = "") {
  Loaded l;
  try {
    l.inventory = inv::Inventory::load(inv::resolve_inventory_path(g.inventory));
    for (const auto& w : l.inventory.warnings()) std::cerr << w.str() << "\n";
  } catch (const inv::InventoryError& e) {
    bad_input(e.diagnostics());
  }
  auto svc_path = orch::resolve_service_path(g.service_file);
  if (need_service || g.service_file || std::filesystem::exists(svc_path)) {
    try {
      l.service = orch::ServiceConfig::load(svc_path);
    } catch (const inv::InventoryError& e) {
      bad_input(e.diagnostics());
    }
  }
  bool group_from_service = false;
  if (sel.groups.empty() && sel.hosts.empty()) {
    if (default_group.empty())
      bad_input("choose the hosts: --group G or --host NAME[,NAME...] (see `plugbox inventory list`)");
    sel.groups.push_back(default_group);
    group_from_service = true;
  }
  try {
    l.hosts = l.inventory.select(inv::Selection{sel.groups, sel.hosts});
  } catch (const inv::InventoryError& e) {
    if (!group_from_service || !l.service) bad_input(e.diagnostics());
    // The group was named in the service file: point there, where the fix is.
    std::vector<inv::Diagnostic> diags;
    for (const auto& d : e.diagnostics())
      diags.push_back(inv::Diagnostic{l.service->deploy.group_pos,
                                      "deploy.group: " + d.message + " (groups are defined in " + d.pos.file + ")",
                                      d.warning});
    bad_input(diags);
  }
  if (!l.service)
    for (const auto* h : l.hosts)
      if (h->home.empty() || (h->user.empty() && h->transport == inv::TransportKind::ssh))
        bad_input("host '" + h->name + "' has no home" + std::string(h->user.empty() ? " or user" : "") +
                  " in the inventory and there is no plugbox.toml to take the service name from: pass -f FILE or set them");
  return l;
}

std::string whoami() {
  const char* u = std::getenv("USER");
  if (!u || !*u)
    if (const passwd* pw = ::getpwuid(::getuid())) u = pw->pw_name;
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  return std::string(u && *u ? u : "unknown") + "@" + host;
}

std::string source_rev(const std::filesystem::path& dir) {
  std::string cmd = "git -C '" + dir.string() + "' rev-parse --short HEAD 2>/dev/null";
  if (dir.string().find('\'') != std::string::npos) return "";
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  char buf[128] = {0};
  std::string out = std::fgets(buf, sizeof buf, p) ? buf : "";
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// Runs the service's prepare lines here, in its source tree; their output
// passes through. False (after saying which) when one fails.
bool run_prepare(const orch::ServiceConfig& svc, const std::string& version) {
  for (const auto& line : svc.prepare) {
    std::cerr << "prepare: $ " << line << "\n";
    pid_t pid = ::fork();
    if (pid == 0) {
      if (::chdir(svc.source_dir.c_str()) != 0) _exit(127);
      ::setenv("PLUGBOX_SERVICE", svc.name.c_str(), 1);
      ::setenv("PLUGBOX_VERSION", version.c_str(), 1);
      ::dup2(STDERR_FILENO, STDOUT_FILENO);  // stdout stays ours (JSON events)
      ::execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::cerr << "plugbox: prepare failed: `" << line << "` in " << svc.source_dir.string()
                << " exited " << (WIFEXITED(status) ? std::to_string(WEXITSTATUS(status)) : "on a signal")
                << "; nothing was sent to any host\n";
      return false;
    }
  }
  return true;
}

// Runs `task` on a fresh io_context with SIGINT/SIGTERM wired up: the first
// signal sets `interrupted` (and tells a deploy run), so nothing new starts
// and what was begun is finished or put back; a second one cancels the
// transport outright. An exception from the task is rethrown here. Once the
// task is done the shared jump host connections are closed (they would keep
// the loop running forever) and whatever closing work is left gets a moment.
template <class Task>
void run_loop(asio::io_context& io, orch::DeployRun* run, orch::FleetTransport* t, std::shared_ptr<bool> interrupted,
              Task task) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  int count = 0;
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (++count == 1) {
      std::cerr << "\nplugbox: interrupted: starting nothing new, finishing or undoing what was begun "
                   "(Ctrl-C again to abort at once)\n";
      if (interrupted) *interrupted = true;
      if (run) run->interrupt();
    } else if (t) {
      t->cancel();
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  std::exception_ptr failure;
  bool finished = false;
  auto body = [&]() -> transport::Awaitable<void> {
    try {
      co_await task();
    } catch (...) {
      failure = std::current_exception();
    }
    finished = true;
    signals.cancel();  // else the pending signal wait keeps io.run() going
    if (t) t->close_all();
  };
  asio::co_spawn(io, body, asio::detached);
  while (!finished && io.run_one() > 0) {
  }
  // Disconnects in flight may finish; nothing may keep plugbox from exiting.
  if (finished) io.run_for(std::chrono::seconds(2));
  if (failure) std::rethrow_exception(failure);
  if (!finished) throw std::runtime_error("the event loop stopped before the command finished");
}

orch::Journal open_journal(const std::string& kind, const std::string& run_name) {
  try {
    return orch::Journal::open(kind, run_name);
  } catch (const std::exception& e) {
    bad_input(std::string(e.what()) + " (nothing was touched; set XDG_STATE_HOME to a writable directory)");
  }
}

int print_outcome(const orch::DeployOutcome& o, bool json, const orch::Journal* journal) {
  if (json) {
    nlohmann::json hosts = nlohmann::json::array();
    for (const auto& h : o.hosts)
      hosts.push_back({{"host", h.host}, {"live", h.live}, {"live_before", h.live_before}, {"state", h.state},
                       {"error", h.error}, {"needs_attention", h.needs_attention}});
    nlohmann::json j = {{"event", "result"}, {"exit", o.exit_code}, {"summary", o.summary}, {"hosts", hosts}};
    if (journal && journal->enabled()) j["journal"] = journal->dir().string();
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  } else {
    std::cout << "\n" << orch::render_standings(o) << o.summary << "\n";
    if (journal && journal->enabled()) std::cout << "journal: " << journal->dir().string() << "\n";
  }
  return o.exit_code;
}

// The version name for a new deploy: the current UTC second, unless a deploy
// from here already used it (two deploys in a row within one second), in
// which case the next second: the name must be new on every host, and
// next-version refuses one that exists.
std::string fresh_version() {
  for (;;) {
    std::string v = orch::version_now();
    std::error_code ec;
    if (!std::filesystem::exists(orch::Journal::state_root() / "runs" / v / "deploy.jsonl", ec)) return v;
    ::usleep(20 * 1000);
  }
}

struct DeployArgs {
  SelectOptions sel;
  std::string batches;
  std::optional<int> max_fail;
  bool dry_run = false;
};

int do_deploy(const GlobalOptions& g, DeployArgs& a, const std::string& default_group) {
  Loaded l = load(g, a.sel, true, default_group);
  const auto& svc = *l.service;
  orch::DeployOptions o;
  if (!a.batches.empty()) {
    std::vector<orch::BatchSize> b;
    if (auto err = orch::parse_batches(a.batches, &b); !err.empty()) bad_input("--batches: " + err);
    o.batches = b;
  }
  o.max_fail = a.max_fail;
  o.parallel = a.sel.parallel;
  o.version = a.dry_run ? orch::version_now() : fresh_version();
  o.by = whoami();
  o.owner = "plugbox-" + o.by + "-" + std::to_string(::getpid()) + "-" + o.version;
  o.source_rev = source_rev(svc.source_dir);
  auto plan = orch::plan_deploy(svc, l.inventory, l.hosts, o);
  for (const auto& h : plan.hosts)
    if (auto p = h.target.problem()) bad_input(*p);
  if (a.dry_run) {
    std::cout << plan.render() << "\ndry run: nothing was prepared, sent or changed\n";
    return kOk;
  }
  if (!run_prepare(svc, plan.version)) return kFailedRolledBack;
  upload::LocalTree tree;
  try {
    tree = upload::build_manifest(upload::TreeSpec{svc.source_dir, svc.upload_version, svc.upload});
  } catch (const std::exception& e) {
    bad_input(std::string(e.what()) + " (nothing was sent)");
  }
  // Compressed as the hosts ask for contents: only what some host lacks.
  auto blobs = upload::BlobStore::lazy(tree);
  orch::Journal journal = open_journal("deploy", plan.version);
  journal.record({{"event", "plan"}, {"text", plan.render()}});
  auto reporter = orch::make_reporter(orch::pick_output_mode(a.sel.json));
  reporter->event(orch::Event{"plan", "", "deploying " + svc.name + " " + plan.version + ": " +
                                            std::to_string(tree.manifest.entries.size()) + " entries, " +
                                            std::to_string(tree.manifest.total_file_bytes()) + " bytes in " +
                                            std::to_string(blobs.size()) + " distinct contents",
                              orch::Event::Level::info, {{"version", plan.version}}});
  asio::io_context io;
  auto t = orch::make_fleet_transport(io.get_executor());
  orch::DeployRun run(*t, plan, tree.manifest, blobs, *reporter, journal);
  orch::DeployOutcome outcome;
  auto task = [&]() -> transport::Awaitable<void> { outcome = co_await run.run(); };
  run_loop(io, &run, t.get(), nullptr, task);
  reporter->finish();
  return print_outcome(outcome, a.sel.json, &journal);
}

struct RollbackArgs {
  SelectOptions sel;
  std::optional<std::string> from;
  bool dry_run = false;
};

int do_rollback(const GlobalOptions& g, RollbackArgs& a, const std::string& default_group) {
  Loaded l = load(g, a.sel, false, default_group);
  std::string service = l.service ? l.service->name : "";
  std::vector<orch::PlannedHost> hosts;
  std::string run_name = orch::version_now();
  std::string owner = "plugbox-" + whoami() + "-" + std::to_string(::getpid()) + "-rollback-" + run_name;
  for (const auto* h : l.hosts) hosts.push_back(orch::plan_host(l.inventory, *h, service, owner));
  orch::Journal journal = a.dry_run ? orch::Journal() : open_journal("rollback", run_name);
  auto reporter = orch::make_reporter(orch::pick_output_mode(a.sel.json));
  asio::io_context io;
  auto t = orch::make_fleet_transport(io.get_executor());
  orch::RollbackOptions ro;
  ro.from = a.from;
  ro.dry_run = a.dry_run;
  ro.service = service;
  if (l.service) ro.stop = l.service->stop, ro.start = l.service->start;
  double timeout = l.service ? l.service->deploy.command_timeout : 300;
  orch::DeployOutcome outcome;
  auto interrupted = std::make_shared<bool>(false);
  auto task = [&]() -> transport::Awaitable<void> {
    orch::FleetContext ctx{*t, hosts, *reporter, journal, a.sel.parallel, timeout, interrupted};
    outcome = co_await orch::fleet_rollback(ctx, ro);
  };
  run_loop(io, nullptr, t.get(), interrupted, task);
  reporter->finish();
  return print_outcome(outcome, a.sel.json, &journal);
}

}  // namespace

void add_fleet_commands(CLI::App& app, CLI::App& fleet, GlobalOptions& g) {
  // fleet deploy
  auto deploy_args = std::make_shared<DeployArgs>();
  auto* d = fleet.add_subcommand("deploy", "Stage a new version on every selected host, then switch them in health-gated batches");
  add_select(d, deploy_args->sel);
  d->add_option("--batches", deploy_args->batches, "Batch sizes, e.g. 1,10%,100% (the last repeats); default: the service file's");
  d->add_option("--max-fail", deploy_args->max_fail, "Failed hosts tolerated per batch before the fleet is rolled back")
      ->check(CLI::NonNegativeNumber);
  d->add_flag("--dry-run", deploy_args->dry_run, "Print the exact plan; touch no host");
  d->add_flag("--json", deploy_args->sel.json, "Events as JSON lines");
  d->callback([&g, deploy_args] { throw CLI::RuntimeError(do_deploy(g, *deploy_args, "")); });

  // fleet rollback
  auto rb_args = std::make_shared<RollbackArgs>();
  auto* r = fleet.add_subcommand("rollback", "Put each host whose live version is V back on its previous (stop, switch, start)");
  add_select(r, rb_args->sel);
  r->add_option("--from", rb_args->from, "V (default: the newest version live on any selected host)");
  r->add_flag("--dry-run", rb_args->dry_run, "Read where hosts stand and print what would run; change nothing");
  r->add_flag("--json", rb_args->sel.json, "Events as JSON lines");
  r->callback([&g, rb_args] { throw CLI::RuntimeError(do_rollback(g, *rb_args, "")); });

  // fleet gc
  struct GcArgs {
    SelectOptions sel;
    std::optional<int> keep;
    bool dry_run = false;
  };
  auto gc_args = std::make_shared<GcArgs>();
  auto* gc = fleet.add_subcommand("gc", "Remove old versions on every selected host, keeping the N newest, live and its previous");
  add_select(gc, gc_args->sel);
  gc->add_option("--keep", gc_args->keep, "Versions to keep (at least 2; default: the service file's keep)")
      ->check(CLI::Range(2, 1000000));
  gc->add_flag("--dry-run", gc_args->dry_run, "Print what each host would remove; change nothing");
  gc->add_flag("--json", gc_args->sel.json, "Events as JSON lines");
  gc->callback([&g, gc_args] {
    Loaded l = load(g, gc_args->sel, false);
    int keep = gc_args->keep.value_or(l.service ? l.service->deploy.keep : 5);
    std::string service = l.service ? l.service->name : "";
    std::string run_name = orch::version_now();
    std::string owner = "plugbox-" + whoami() + "-" + std::to_string(::getpid()) + "-gc-" + run_name;
    std::vector<orch::PlannedHost> hosts;
    for (const auto* h : l.hosts) hosts.push_back(orch::plan_host(l.inventory, *h, service, owner));
    orch::Journal journal = gc_args->dry_run ? orch::Journal() : open_journal("gc", run_name);
    auto reporter = orch::make_reporter(orch::pick_output_mode(gc_args->sel.json));
    asio::io_context io;
    auto t = orch::make_fleet_transport(io.get_executor());
    orch::DeployOutcome outcome;
    auto interrupted = std::make_shared<bool>(false);
    auto task = [&]() -> transport::Awaitable<void> {
      orch::FleetContext ctx{*t, hosts, *reporter, journal, gc_args->sel.parallel, 300, interrupted};
      outcome = co_await orch::fleet_gc(ctx, keep, gc_args->dry_run);
    };
    run_loop(io, nullptr, t.get(), interrupted, task);
    reporter->finish();
    throw CLI::RuntimeError(print_outcome(outcome, gc_args->sel.json, &journal));
  });

  // fleet status
  auto st_args = std::make_shared<SelectOptions>();
  auto* st = fleet.add_subcommand("status", "Per host: live, previous, versions, lock, reachable");
  add_select(st, *st_args);
  st->add_flag("--json", st_args->json, "A JSON array, one object per host");
  st->callback([&g, st_args] {
    Loaded l = load(g, *st_args, false);
    std::string service = l.service ? l.service->name : "";
    std::vector<orch::PlannedHost> hosts;
    for (const auto* h : l.hosts) hosts.push_back(orch::plan_host(l.inventory, *h, service, "plugbox-status"));
    orch::Journal journal;
    auto reporter = orch::make_reporter(orch::OutputMode::lines, stderr);
    asio::io_context io;
    auto t = orch::make_fleet_transport(io.get_executor());
    std::vector<orch::HostStatusRow> rows;
    auto interrupted = std::make_shared<bool>(false);
    auto task = [&]() -> transport::Awaitable<void> {
      orch::FleetContext ctx{*t, hosts, *reporter, journal, st_args->parallel, 60, interrupted};
      rows = co_await orch::fleet_status(ctx);
    };
    run_loop(io, nullptr, t.get(), interrupted, task);
    if (st_args->json) std::cout << orch::status_rows_json(rows).dump(2) << std::endl;
    else std::cout << orch::render_status_table(rows);
    bool all = std::all_of(rows.begin(), rows.end(), [](const auto& r) { return r.reachable && r.error.empty(); });
    throw CLI::RuntimeError(all ? kOk : kFailedRolledBack);
  });

  // The service's own target: its [deploy] group.
  auto own = std::make_shared<DeployArgs>();
  auto* pd = app.add_subcommand("deploy", "Deploy the service (plugbox.toml) to its [deploy] group");
  pd->add_option("--batches", own->batches, "Batch sizes, e.g. 1,10%,100%");
  pd->add_option("--max-fail", own->max_fail, "Failed hosts tolerated per batch")->check(CLI::NonNegativeNumber);
  pd->add_flag("--dry-run", own->dry_run, "Print the exact plan; touch no host");
  pd->add_flag("--json", own->sel.json, "Events as JSON lines");
  pd->callback([&g, own] {
    orch::ServiceConfig svc;
    try {
      svc = orch::ServiceConfig::load(orch::resolve_service_path(g.service_file));
    } catch (const inv::InventoryError& e) {
      bad_input(e.diagnostics());
    }
    if (svc.deploy.group.empty())
      bad_input(svc.file.string() + ": deploy.group is not set: add `group = \"web\"` under [deploy], or use `plugbox fleet deploy --group G`");
    throw CLI::RuntimeError(do_deploy(g, *own, svc.deploy.group));
  });
  auto own_rb = std::make_shared<RollbackArgs>();
  auto* pr = app.add_subcommand("rollback", "Put the service's [deploy] group back on its previous version");
  pr->add_flag("--dry-run", own_rb->dry_run, "Print what would run; change nothing");
  pr->add_flag("--json", own_rb->sel.json, "Events as JSON lines");
  pr->callback([&g, own_rb] {
    orch::ServiceConfig svc;
    try {
      svc = orch::ServiceConfig::load(orch::resolve_service_path(g.service_file));
    } catch (const inv::InventoryError& e) {
      bad_input(e.diagnostics());
    }
    if (svc.deploy.group.empty()) bad_input(svc.file.string() + ": deploy.group is not set: add it under [deploy]");
    throw CLI::RuntimeError(do_rollback(g, *own_rb, svc.deploy.group));
  });
  auto* pp = app.add_subcommand("prepare", "Run the service's prepare commands here, in its source tree");
  pp->callback([&g] {
    orch::ServiceConfig svc;
    try {
      svc = orch::ServiceConfig::load(orch::resolve_service_path(g.service_file));
    } catch (const inv::InventoryError& e) {
      bad_input(e.diagnostics());
    }
    throw CLI::RuntimeError(run_prepare(svc, orch::version_now()) ? kOk : kFailedRolledBack);
  });
}

}  // namespace plugbox::cli
