// `plugbox prepare`: the service's prepare lines, here, in its source tree.
#include <CLI/CLI.hpp>

#include "orchestrator/commands.h"
#include "orchestrator/inputs.h"
#include "orchestrator/local_prepare.h"

namespace plugbox::cli {

void add_prepare_command(CLI::App& app, GlobalOptions& g) {
  auto* pp = app.add_subcommand("prepare", "Run the service's prepare commands here, in its source tree");
  pp->callback([&g] {
    orchestrator::ServiceConfig svc = load_service(g);
    bool ok = orchestrator::run_prepare(svc, orchestrator::version_now());
    finish(ok ? orchestrator::ExitStatus::ok : orchestrator::ExitStatus::failed);
  });
}

}  // namespace plugbox::cli
