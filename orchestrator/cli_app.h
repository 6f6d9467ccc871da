// The whole `plugbox` command line, assembled in one place: main() parses
// with it, and tools/docgen walks the same app to write the man page and the
// shell completions, so those can never disagree with --help.
#pragma once

#include "orchestrator/commands.h"

namespace CLI {
class App;
}

namespace plugbox::cli {

// Sets `app`'s description, its --help-all and --version flags and global
// options (bound to `opts`), and adds every command. Building runs nothing:
// commands run from their callbacks, during parse. `opts` must outlive `app`.
void build_app(CLI::App& app, GlobalOptions& opts);

}  // namespace plugbox::cli
