// `plugbox fleet deploy` and the service's own `plugbox deploy` (its [deploy]
// group): load and validate every input (exit 2, nothing touched), print the
// plan (--dry-run) or prepare here, build the manifest, and run the plan
// (DeployRun) on the event loop.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "orchestrator/commands.h"
#include "orchestrator/content_cache_setting.h"
#include "orchestrator/deploy_run.h"
#include "orchestrator/event_loop.h"
#include "orchestrator/inputs.h"
#include "orchestrator/local_hooks.h"
#include "orchestrator/local_prepare.h"
#include "orchestrator/run_identity.h"
#include "upload/client/blob_store.h"
#include "upload/client/content_cache.h"
#include "upload/client/manifest_builder.h"

namespace plugbox::cli {
namespace {

namespace orch = plugbox::orchestrator;

struct DeployArgs {
  SelectOptions sel;
  std::string batches;
  std::optional<int> max_fail;
  bool dry_run = false;
};

orch::ExitStatus deploy(const GlobalOptions& g, DeployArgs& a, const std::string& default_group) {
  Loaded l = load(g, a.sel, true, default_group);
  const auto& svc = *l.service;
  std::string cache_why;
  const auto cache_setting_read = orch::parse_cache_setting(std::getenv("PLUGBOX_CACHE_MB"), std::getenv("XDG_CACHE_HOME"),
                                                            std::getenv("HOME"), &cache_why);
  if (!cache_setting_read) bad_input(cache_why);
  const orch::CacheSetting cache_setting = *cache_setting_read;
  orch::DeployOptions o;
  if (!a.batches.empty()) {
    std::vector<orch::BatchSize> b;
    if (auto err = orch::parse_batches(a.batches, &b); !err.empty()) bad_input("--batches: " + err);
    o.batches = b;
  }
  o.max_fail = a.max_fail;
  o.parallel = a.sel.parallel;
  o.version = a.dry_run ? orch::version_now() : fresh_run_name("deploy");
  o.by = whoami();
  o.owner = owner_id("", o.version);
  o.source_rev = orch::source_rev(svc.source_dir);
  auto plan = orch::plan_deploy(svc, l.inventory, l.hosts, o);
  for (const auto& h : plan.hosts)
    if (auto p = h.target.problem()) bad_input(*p);
  const auto& hooks = svc.hooks;
  if (a.dry_run) {
    std::cout << plan.render();
    for (const auto& [name, line] : {std::pair{"before_deploy", hooks.before_deploy}, std::pair{"after_deploy", hooks.after_deploy},
                                     std::pair{"on_failure", hooks.on_failure}})
      if (!line.empty()) std::cout << "hook " << name << " (here, in " << svc.source_dir.string() << "): $ " << line << "\n";
    std::cout << "\ndry run: nothing was prepared, sent or changed\n";
    return orch::ExitStatus::ok;
  }
  std::vector<std::string> names;
  for (const auto& h : plan.hosts) names.push_back(h.name);
  if (!hooks.before_deploy.empty()) {
    // A gate: before anything is prepared or any host touched.
    const orch::HookEnv env{svc.name, plan.version, "", orch::host_list(names), "", "", ""};
    const auto r = orch::run_hook("before_deploy", hooks.before_deploy, env, svc.source_dir, svc.deploy.command_timeout);
    if (!r.ok) {
      std::cerr << "plugbox: " << r.error << "; the deploy stopped before anything was prepared or sent\n";
      return r.interrupted ? orch::ExitStatus::interrupted : orch::ExitStatus::failed;
    }
  }
  if (!orch::run_prepare(svc, plan.version)) {
    orch::Journal none;
    const orch::HookEnv env{svc.name, plan.version, "", orch::host_list(names), "failed",
                            "prepare failed; nothing was sent to any host", ""};
    run_after_hooks(svc, {{"on_failure", hooks.on_failure}}, env, none);
    return orch::ExitStatus::failed;
  }
  upload::LocalTree tree;
  // Compressed as the hosts ask for contents: only what some host lacks; a
  // changed file as a patch against its old content where this machine
  // deployed that content before (the content cache) and the host has it.
  upload::BlobStore blobs;
  try {
    tree = upload::build_manifest(upload::TreeSpec{svc.source_dir, svc.upload_version, svc.upload});
    blobs = upload::BlobStore::lazy(tree);
    blobs.add_manifest(tree.manifest);
  } catch (const std::exception& e) {
    bad_input(std::string(e.what()) + " (nothing was sent)");
  }
  std::optional<upload::ContentCache> cache;
  if (cache_setting.max_bytes > 0) {
    cache.emplace(cache_setting.dir, cache_setting.max_bytes);
    blobs.set_bases(&*cache);
  }
  orch::Journal journal = open_journal("deploy", plan.version);
  // The first record names the service: a `fleet rollback` from this machine
  // finds the run even if it died before touching any host.
  journal.record({{"event", "plan"}, {"service", svc.name}, {"version", plan.version}, {"text", plan.render()}});
  auto reporter = orch::make_reporter(orch::pick_output_mode(a.sel.json));
  reporter->event(orch::Event{"plan", "", "deploying " + svc.name + " " + plan.version + ": " +
                                            std::to_string(tree.manifest.entries.size()) + " entries, " +
                                            std::to_string(tree.manifest.total_file_bytes()) + " bytes in " +
                                            std::to_string(blobs.size()) + " distinct contents",
                              orch::Event::Level::info, {{"version", plan.version}}});
  boost::asio::io_context io;
  auto t = orch::make_fleet_transport(io.get_executor(), l.host_sessions);
  orch::Interrupt interrupt;
  orch::DeployRun run(*t, plan, tree.manifest, blobs, *reporter, journal, interrupt);
  orch::RunOutcome outcome;
  auto task = [&]() -> transport::Awaitable<void> { outcome = co_await run.run(); };
  orch::run_loop(io, *t, interrupt, task);
  reporter->finish();
  // For the next deploy's patches: whatever this one left on the hosts
  // (staged, live, or rolled back to), those contents are now cached here.
  if (cache)
    if (std::string err = cache->put(tree); !err.empty())
      std::cerr << "plugbox: warning: content cache: " << err << " (the next deploy sends changed files whole)\n";
  const orch::ExitStatus exit = print_outcome(outcome, a.sel.json, &journal);
  const bool ok = outcome.exit == orch::ExitStatus::ok;
  run_after_hooks(svc, {{"after_deploy", ok ? hooks.after_deploy : ""}, {"on_failure", ok ? "" : hooks.on_failure}},
                  orch::hook_env_after(svc, plan.version, outcome, journal.enabled() ? journal.dir().string() : ""),
                  journal);
  return exit;
}

void add_deploy_options(CLI::App* c, DeployArgs& a) {
  c->add_option("--batches", a.batches, "Batch sizes, e.g. 1,10%,100% (the last repeats); default: the service file's");
  c->add_option("--max-fail", a.max_fail, "Failed hosts tolerated per batch before the fleet is rolled back")
      ->check(CLI::NonNegativeNumber);
  c->add_flag("--dry-run", a.dry_run, "Print the exact plan; touch no host");
  c->add_flag("--json", a.sel.json, "Events as JSON lines");
}

}  // namespace

void add_deploy_commands(CLI::App& app, CLI::App& fleet, GlobalOptions& g) {
  auto args = std::make_shared<DeployArgs>();
  auto* d = fleet.add_subcommand("deploy", "Stage a new version on every selected host, then switch them in health-gated batches");
  add_select(d, args->sel);
  add_deploy_options(d, *args);
  d->callback([&g, args] { finish(deploy(g, *args, "")); });

  auto own = std::make_shared<DeployArgs>();
  auto* pd = app.add_subcommand("deploy", "Deploy the service (plugbox.toml) to its [deploy] group");
  add_deploy_options(pd, *own);
  pd->callback([&g, own] {
    orch::ServiceConfig svc = load_service(g);
    if (svc.deploy.group.empty())
      bad_input(svc.file.string() + ": deploy.group is not set: add `group = \"web\"` under [deploy], or use `plugbox fleet deploy --group G`");
    finish(deploy(g, *own, svc.deploy.group));
  });
}

}  // namespace plugbox::cli
