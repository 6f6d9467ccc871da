// A shell line run here, on the operator's machine: what the service's
// prepare lines and its hooks have in common.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace plugbox::orchestrator {

// Starts `line` with /bin/sh -c, in `cwd` (unless empty: then here), with
// `vars` added to the environment and its stdout sent to our stderr: stdout
// is kept for --json events. With `own_group` it runs in a process group of
// its own with SIGINT and SIGTERM at their defaults, so a deadline can end
// it and whatever it left in the background (hooks); without, it stays in
// ours and a Ctrl-C at the terminal reaches it as it reaches plugbox
// (prepare: a build the operator stops). The child exits 127 if it cannot
// enter `cwd` or run the shell. -1 if fork fails.
pid_t start_shell_line(const std::string& line, const std::filesystem::path& cwd,
                       const std::vector<std::pair<std::string, std::string>>& vars, bool own_group);

}  // namespace plugbox::orchestrator
