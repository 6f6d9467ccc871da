// `plugbox fleet exec (--group G | --host H[,H...]) [--parallel N] [--timeout S] -- CMD...`
// (docs/DESIGN.md §8): CMD on every selected host at once, through their jump chains,
// each output line prefixed by its host (coloured on a terminal), then a
// summary. Exit 0 only if every host ran CMD with exit status 0; 1 if any
// did not; 2 for bad input (nothing run); 130 when interrupted.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <iostream>

#include "orchestrator/commands.h"
#include "orchestrator/event_loop.h"
#include "orchestrator/inputs.h"
#include "transport/fan_out.h"
#include "transport/line_prefixer.h"

namespace plugbox::cli {
namespace {

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

orchestrator::ExitStatus run_exec(const GlobalOptions& g, ExecArgs& a) {
  if (a.groups.empty() && a.hosts.empty())
    bad_input("fleet exec: choose the hosts: --group G or --host NAME[,NAME...] (see `plugbox inventory list`)");
  if (a.command.empty()) bad_input("fleet exec: give the command after --, e.g. plugbox fleet exec --group web -- uptime");
  tr::Command command = command_of(a.command);
  SelectOptions sel{split_commas(a.groups), split_commas(a.hosts)};
  Loaded l = load(g, sel, false, "", /*needs_home=*/false);
  std::vector<tr::Target> targets;
  std::vector<std::string> names;
  for (const auto& h : l.plan_hosts("")) {
    targets.push_back(h.target);
    names.push_back(h.name);
  }

  boost::asio::io_context io;
  // fleet exec runs the operator's command on a channel of its own: no session.
  auto transport = orch::make_fleet_transport(io.get_executor(), /*host_sessions=*/false);
  const bool color = ::isatty(STDOUT_FILENO) && ::isatty(STDERR_FILENO) && !std::getenv("NO_COLOR");
  tr::LinePrefixer lines(names, color, [](bool is_err, std::string_view text) {
    (is_err ? std::cerr : std::cout) << text;
    (is_err ? std::cerr : std::cout).flush();
  });
  orch::Interrupt interrupt;
  tr::FanOutOptions o;
  o.parallel = a.parallel;
  o.timeout = std::chrono::milliseconds(static_cast<long long>(a.timeout * 1000));
  o.on_output = [&](size_t host, bool is_err, std::string_view data) { lines.feed(host, is_err, data); };
  o.on_done = [&](size_t host, const tr::HostOutcome& outcome) {
    lines.finish(host);
    if (outcome.error) std::cerr << lines.prefix(host) << "failed: " << outcome.describe() << "\n";
  };
  // The first Ctrl-C starts no further host; the second stops every command.
  o.stop_starting = [&interrupt] { return interrupt.raised(); };
  std::vector<tr::HostOutcome> outcomes;
  auto task = [&]() -> transport::Awaitable<void> {
    outcomes = co_await tr::fan_out(*transport, targets, command, o);
  };
  orch::run_loop(io, *transport, interrupt, task);

  size_t ok = 0;
  for (const auto& out : outcomes) ok += out.ok();
  std::cerr << "\n" << outcomes.size() << " host" << (outcomes.size() == 1 ? "" : "s") << ": " << ok << " ok";
  if (ok < outcomes.size()) std::cerr << ", " << outcomes.size() - ok << " failed";
  std::cerr << "\n";
  for (size_t i = 0; i < outcomes.size(); ++i)
    if (!outcomes[i].ok()) std::cerr << "  " << outcomes[i].name << ": " << outcomes[i].describe() << "\n";
  if (interrupt.raised()) return orch::ExitStatus::interrupted;
  return ok == outcomes.size() ? orch::ExitStatus::ok : orch::ExitStatus::failed;
}

}  // namespace

void add_exec_command(CLI::App& fleet, GlobalOptions& opts) {
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
  exec->callback([args, &opts] { finish(run_exec(opts, *args)); });
}

}  // namespace plugbox::cli
