// The part of a deploy that runs here, on the operator's machine, before any
// host is touched: the service's prepare lines in its source tree, and the
// source tree's revision for the version's record.
#pragma once

#include <filesystem>
#include <string>

#include "orchestrator/service_config.h"

namespace plugbox::orchestrator {

// Runs the prepare lines in order, with PLUGBOX_SERVICE and PLUGBOX_VERSION
// set; their output goes to stderr (stdout is kept for --json events). False,
// after saying which line failed, when one fails.
bool run_prepare(const ServiceConfig& svc, const std::string& version);

// `git rev-parse --short HEAD` in dir, or "" when it is not a git checkout.
std::string source_rev(const std::filesystem::path& dir);

}  // namespace plugbox::orchestrator
