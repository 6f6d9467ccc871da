// The whole plugbox-server command line, assembled in one place:
// run_server_cli parses with it, and tools/docgen walks the same app to write
// plugbox-server(1), so the page can never disagree with --help.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "server-tools/cli_command.h"

namespace CLI {
class App;
}

namespace plugbox::server {

// The options every command takes, before or after the command word.
struct ServerGlobalOptions {
  std::string home, owner;
  double wait_s = 0;
};

// Sets `app`'s name, description and global options (bound to `global`) and
// adds each of `commands` as a subcommand. Both must outlive `app`.
void build_server_app(CLI::App& app, ServerGlobalOptions& global,
                      const std::vector<std::unique_ptr<CliCommand>>& commands);

}  // namespace plugbox::server
