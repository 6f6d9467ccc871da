// `status [--json]`: what the home holds, for people or for `plugbox fleet
// status`.
#include <CLI/CLI.hpp>

#include "server-tools/cli_command.h"
#include "server-tools/status.h"

namespace plugbox::server {

namespace {

struct StatusCommand : CliCommand {
  bool json_ = false;

  StatusCommand()
      : CliCommand("status", "live, the chain, each version's state, size and provenance, the lock holder") {}
  void add_options(CLI::App& c) override {
    c.add_flag("--json", json_, "print JSON (schema in server-tools/status.h)");
  }
  int run(const CommandContext& ctx) override {
    // A home never deployed to is an answer ("initialised": false), not an error.
    if (!never_deployed(ctx.layout)) require_layout(ctx.layout);
    StatusReport r = collect_status(ctx.layout);
    if (json_)
      ctx.env.out << status_json(r).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    else
      ctx.env.out << status_text(r);
    return 0;
  }
};

}  // namespace

std::unique_ptr<CliCommand> make_status_command() { return std::make_unique<StatusCommand>(); }

}  // namespace plugbox::server
