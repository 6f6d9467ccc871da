// `plugbox fleet exec (--group G | --host H[,H...]) [--parallel N] [--timeout S] -- CMD...`
// (DESIGN §8): CMD on every selected host at once, through their jump chains,
// each output line prefixed by its host (coloured on a terminal), then a
// summary. Exit 0 only if every host ran CMD with exit status 0; 1 if any
// did not; 2 for bad input (nothing run); 130 when interrupted.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <filesystem>
#include <iostream>

#include "inventory/inventory.h"
#include "orchestrator/commands.h"
#include "orchestrator/fleet_transport.h"
#include "orchestrator/planner.h"
#include "orchestrator/service_config.h"
#include "transport/fan_out.h"
#include "transport/line_prefixer.h"

namespace plugbox::cli {
namespace {

namespace inv = plugbox::inventory;
namespace orch = plugbox::orchestrator;
namespace tr = plugbox::transport;

struct ExecArgs {
  std::string groups, hosts;  // comma-separated
  int parallel = 0;
  double timeout = 0;
  std::vector<std::string> command;
};

// One word is a shell line as the operator wrote it (`-- 'df -h | tail -1'`);
// several are an argv, each word passed through exactly (`-- touch "a b"`).
tr::Command command_of(const std::vector<std::string>& words) {
  try {
    if (words.size() == 1) return tr::Command::shell(words[0]);
    return tr::Command::argv(words);
  } catch (const std::invalid_argument& e) {
    bad_input(std::string("fleet exec: ") + e.what());
  }
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

int run_exec(const GlobalOptions& g, ExecArgs& a) {
  if (a.groups.empty() && a.hosts.empty())
    bad_input("fleet exec: choose the hosts: --group G or --host NAME[,NAME...] (see `plugbox inventory list`)");
  if (a.command.empty()) bad_input("fleet exec: give the command after --, e.g. plugbox fleet exec --group web -- uptime");
  tr::Command command = command_of(a.command);

  inv::Inventory inventory;
  std::vector<const inv::Host*> hosts;
  try {
    inventory = inv::Inventory::load(inv::resolve_inventory_path(g.inventory));
    for (const auto& w : inventory.warnings()) std::cerr << w.str() << "\n";
    hosts = inventory.select(inv::Selection{split_commas(a.groups), split_commas(a.hosts)});
  } catch (const inv::InventoryError& e) {
    bad_input(e.diagnostics());
  }
  // The service name stands in for a missing user (and home): take it from
  // the service file when there is one.
  std::string service;
  auto svc_path = orch::resolve_service_path(g.service_file);
  if (g.service_file || std::filesystem::exists(svc_path)) {
    try {
      service = orch::ServiceConfig::load(svc_path).name;
    } catch (const inv::InventoryError& e) {
      bad_input(e.diagnostics());
    }
  }
  std::vector<tr::Target> targets;
  std::vector<std::string> names;
  for (const auto* h : hosts) {
    bool local = h->transport == inv::TransportKind::local;
    if (service.empty() && ((local && h->home.empty()) || (!local && h->user.empty())))
      bad_input("host '" + h->name + "' has no " + (local ? "home" : "user") +
                " in the inventory and there is no plugbox.toml to take the service name from: set it, or pass -f FILE");
    targets.push_back(orch::plan_host(inventory, *h, service, "").target);
    names.push_back(h->name);
    if (auto p = targets.back().problem()) bad_input(*p);
  }

  boost::asio::io_context io;
  auto transport = orch::make_fleet_transport(io.get_executor());
  const bool color = ::isatty(STDOUT_FILENO) && ::isatty(STDERR_FILENO) && !std::getenv("NO_COLOR");
  tr::LinePrefixer lines(names, color, [](bool is_err, std::string_view text) {
    (is_err ? std::cerr : std::cout) << text;
    (is_err ? std::cerr : std::cout).flush();
  });
  tr::FanOutOptions o;
  o.parallel = a.parallel;
  o.timeout = std::chrono::milliseconds(static_cast<long long>(a.timeout * 1000));
  o.on_output = [&](size_t host, bool is_err, std::string_view data) { lines.feed(host, is_err, data); };
  o.on_done = [&](size_t host, const tr::HostOutcome& outcome) {
    lines.finish(host);
    if (outcome.error) std::cerr << lines.prefix(host) << "failed: " << outcome.describe() << "\n";
  };

  bool interrupted = false;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    interrupted = true;
    std::cerr << "plugbox: interrupted: stopping every command\n";
    transport->cancel();
  });
  std::vector<tr::HostOutcome> outcomes;
  bool finished = false;
  boost::asio::co_spawn(io, tr::fan_out(*transport, targets, command, o),
                        [&](std::exception_ptr e, std::vector<tr::HostOutcome> r) {
                          if (e) std::rethrow_exception(e);
                          outcomes = std::move(r);
                          finished = true;
                          signals.cancel();
                        });
  while (!finished && io.run_one() > 0) {
  }

  size_t ok = 0;
  for (const auto& out : outcomes) ok += out.ok();
  std::cerr << "\n" << outcomes.size() << " host" << (outcomes.size() == 1 ? "" : "s") << ": " << ok << " ok";
  if (ok < outcomes.size()) std::cerr << ", " << outcomes.size() - ok << " failed";
  std::cerr << "\n";
  for (size_t i = 0; i < outcomes.size(); ++i)
    if (!outcomes[i].ok()) std::cerr << "  " << outcomes[i].name << ": " << outcomes[i].describe() << "\n";
  if (interrupted) return kInterrupted;
  return ok == outcomes.size() ? kOk : kFailedRolledBack;
}

}  // namespace

void add_fleet_exec_command(CLI::App& fleet, GlobalOptions& opts) {
  auto args = std::make_shared<ExecArgs>();
  auto* exec = fleet.add_subcommand(
      "exec",
      "Run a command on every selected host at once: plugbox fleet exec --group web -- uptime\n"
      "One word after -- is a shell line ('df -h | tail -1'); several are a command and its arguments,\n"
      "each passed as is. Output lines are prefixed by their host; exit 0 only if every host succeeded.");
  // Single-valued options: CLI11 2.1 stops honouring `--` after a vector
  // option, and the command after `--` may carry any option-like word.
  exec->add_option("-g,--group", args->groups, "Hosts of group G (its children included); G1,G2 for several");
  exec->add_option("--host", args->hosts, "Hosts by name or glob ('web0*'), comma-separated");
  exec->add_option("--parallel", args->parallel, "Hosts at once (default: all)")->check(CLI::Range(1, 100000));
  exec->add_option("--timeout", args->timeout, "Seconds each host gets to connect and run the command (default: none)")
      ->check(CLI::PositiveNumber);
  exec->add_option("command", args->command, "The command, after --")->expected(-1);
  exec->callback([args, &opts] { throw CLI::RuntimeError(run_exec(opts, *args)); });
}

}  // namespace plugbox::cli
