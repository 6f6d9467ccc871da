// The two real command lines, as the generator sees them.
#pragma once

#include <CLI/CLI.hpp>

#include "orchestrator/cli_app.h"
#include "server-tools/server_app.h"
#include "tools/docgen/cli_tree.h"

namespace plugbox::docgen::test {

inline const CommandDoc& plugbox_tree() {
  static const CommandDoc doc = [] {
    CLI::App app;
    cli::GlobalOptions opts;
    cli::build_app(app, opts);
    return describe(app, "plugbox");
  }();
  return doc;
}

inline const CommandDoc& server_tree() {
  static const CommandDoc doc = [] {
    CLI::App app;
    server::ServerGlobalOptions global;
    const auto commands = server::server_commands();
    server::build_server_app(app, global, commands);
    return describe(app, "plugbox-server");
  }();
  return doc;
}

}  // namespace plugbox::docgen::test
