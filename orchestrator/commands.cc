#include "orchestrator/commands.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "inventory/inventory.h"
#include "orchestrator/journal.h"
#include "orchestrator/local_hooks.h"
#include "orchestrator/run_outcome.h"

namespace plugbox::cli {

void finish(orchestrator::ExitStatus status) { throw CLI::RuntimeError(orchestrator::code(status)); }

void bad_input(const std::vector<inventory::Diagnostic>& diags) {
  for (const auto& d : diags) std::cerr << (d.pos.file.empty() ? "plugbox: " : "") << d.str() << "\n";
  finish(orchestrator::ExitStatus::bad_input);
}

void bad_input(const std::string& line) {
  std::cerr << "plugbox: " << line << "\n";
  finish(orchestrator::ExitStatus::bad_input);
}

orchestrator::Journal open_journal(const std::string& kind, const std::string& run_name) {
  try {
    return orchestrator::Journal::open(kind, run_name);
  } catch (const orchestrator::JournalTaken& e) {
    bad_input(std::string(e.what()) + "; no host was touched: run the command again");
  } catch (const std::exception& e) {
    bad_input(std::string(e.what()) + " (nothing was touched; set XDG_STATE_HOME to a writable directory)");
  }
}

orchestrator::ExitStatus print_outcome(const orchestrator::RunOutcome& o, bool json,
                                       const orchestrator::Journal* journal) {
  if (json) {
    nlohmann::json j = orchestrator::outcome_json(o);
    if (journal && journal->enabled()) j["journal"] = journal->dir().string();
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  } else {
    std::cout << "\n" << orchestrator::render_standings(o) << o.summary << "\n";
    if (journal && journal->enabled()) std::cout << "journal: " << journal->dir().string() << "\n";
  }
  return o.exit;
}

void run_after_hooks(const orchestrator::ServiceConfig& svc,
                     const std::vector<std::pair<std::string, std::string>>& hooks,
                     const orchestrator::HookEnv& env, orchestrator::Journal& journal) {
  for (const auto& [name, line] : hooks) {
    if (line.empty()) continue;
    const auto r = orchestrator::run_hook(name, line, env, svc.source_dir, svc.deploy.command_timeout);
    journal.record({{"event", "hook"}, {"hook", name}, {"ok", r.ok}, {"error", r.error}});
    if (!r.ok) std::cerr << "plugbox: " << r.error << "; the run's result stands\n";
  }
}

}  // namespace plugbox::cli
