// `init`: lays the home out where parts are missing; the one command (with
// `receive --create`) that works on a home that is not a layout yet.
#include <CLI/CLI.hpp>

#include "server-tools/cli_command.h"
#include "server-tools/init.h"

namespace plugbox::server {

namespace {

struct InitCommand : CliCommand {
  InitCommand()
      : CliCommand("init", "create the layout (home/live, config/, deploy/.plugbox/) where missing; idempotent") {}
  int run(const CommandContext& ctx) override {
    InitResult r = init_layout(ctx.layout, ctx.lock, ctx.actor);
    if (r.created.empty())
      ctx.env.out << ctx.layout.home.string() << ": already initialised\n";
    else
      ctx.env.out << "initialised " << ctx.layout.home.string() << " (created " << r.created.size()
                  << " entries)\n";
    return 0;
  }
};

}  // namespace

std::unique_ptr<CliCommand> make_init_command() { return std::make_unique<InitCommand>(); }

}  // namespace plugbox::server
