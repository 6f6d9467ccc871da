// Every command the orchestrator runs on a host, built as a value
// (transport::Command: argv + env + cwd, rendered with quoting) so that tests
// compare them as strings and no user input is ever spliced into a line.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/service_config.h"
#include "transport/command.h"

namespace plugbox::orchestrator {

// What the commands for one host need to know.
struct HostContext {
  std::string host;     // inventory name
  std::string home;     // the service home on the host
  std::string server;   // the plugbox-server command (split on spaces)
  std::string owner;    // the lock owner id of this run
};

// `plugbox-server --home HOME --owner OWNER ARGS...`
transport::Command server_command(const HostContext& h, const std::vector<std::string>& args);

// The service's own shell lines, with PLUGBOX_* in their environment.
// post_upload runs in the new version's directory; the others in the home.
struct ServiceEnv {
  std::string service, version, previous;
};
transport::Command service_command(const HostContext& h, const ServiceEnv& env, const std::string& line,
                                   const std::string& cwd);

std::string version_dir(const HostContext& h, const std::string& version);

}  // namespace plugbox::orchestrator
