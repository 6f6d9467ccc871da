#include "orchestrator/remote_commands.h"

#include <sstream>

namespace plugbox::orchestrator {

transport::Command server_command(const HostContext& h, const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  std::istringstream words(h.server);
  for (std::string w; words >> w;) argv.push_back(w);
  if (argv.empty()) argv.push_back("plugbox-server");
  argv.insert(argv.end(), {"--home", h.home, "--owner", h.owner});
  argv.insert(argv.end(), args.begin(), args.end());
  return transport::Command::argv(std::move(argv));
}

transport::Command service_command(const HostContext& h, const ServiceEnv& env, const std::string& line,
                                   const std::string& cwd) {
  auto c = transport::Command::shell(line);
  c.cwd(cwd);
  c.env("PLUGBOX_SERVICE", env.service);
  c.env("PLUGBOX_VERSION", env.version);
  c.env("PLUGBOX_PREVIOUS", env.previous);
  c.env("PLUGBOX_HOST", h.host);
  return c;
}

std::string version_dir(const HostContext& h, const std::string& version) { return h.home + "/deploy/" + version; }

}  // namespace plugbox::orchestrator
