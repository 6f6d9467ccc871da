#include "orchestrator/remote_commands.h"

#include <sstream>

namespace plugbox::orchestrator {

std::vector<std::string> server_words(const HostContext& h) {
  // plugbox's own server is one path, whatever the home's name holds.
  if (h.server_source != ServerSource::pinned) return {h.server};
  std::vector<std::string> argv;
  std::istringstream words(h.server);
  for (std::string w; words >> w;) argv.push_back(w);
  if (argv.empty()) argv.push_back("plugbox-server");
  return argv;
}

transport::Command server_command(const HostContext& h, const std::vector<std::string>& args) {
  std::vector<std::string> argv = server_words(h);
  argv.insert(argv.end(), {"--home", h.home, "--owner", h.owner});
  argv.insert(argv.end(), args.begin(), args.end());
  return transport::Command::argv(std::move(argv));
}

namespace {

void set_service_env(transport::Command& c, const HostContext& h, const ServiceEnv& env) {
  c.env("PLUGBOX_SERVICE", env.service);
  c.env("PLUGBOX_VERSION", env.version);
  c.env("PLUGBOX_PREVIOUS", env.previous);
  c.env("PLUGBOX_HOST", h.host);
}

}  // namespace

namespace server_cmd {

transport::Command init(const HostContext& h) { return server_command(h, {"init"}); }
transport::Command lock(const HostContext& h, int wait_s) {
  if (wait_s <= 0) return server_command(h, {"lock"});
  return server_command(h, {"--wait", std::to_string(wait_s), "lock"});
}
transport::Command status_json(const HostContext& h) { return server_command(h, {"status", "--json"}); }
transport::Command hold(const HostContext& h, const std::string& message) {
  return server_command(h, {"hold", "--message", message});
}
transport::Command release(const HostContext& h, bool force) {
  if (force) return server_command(h, {"release", "--force"});
  return server_command(h, {"release"});
}

transport::Command receive(const HostContext& h, const std::string& version, const std::vector<std::string>& flags) {
  std::vector<std::string> args{"receive", version};
  args.insert(args.end(), flags.begin(), flags.end());
  return server_command(h, args);
}

transport::Command relay(const HostContext& h, const std::string& listen, const std::string& upstream) {
  if (!upstream.empty()) return server_command(h, {"relay", "--listen", listen, "--upstream", upstream});
  return server_command(h, {"relay", "--listen", listen});
}

transport::Command seal(const HostContext& h, const std::string& version) {
  return server_command(h, {"seal", version});
}
transport::Command upgrade_to(const HostContext& h, const std::string& version) {
  return server_command(h, {"upgrade-to", version});
}
transport::Command rollback_to(const HostContext& h, const std::string& version) {
  return server_command(h, {"rollback-to", version});
}
transport::Command remove(const HostContext& h, const std::string& version) {
  return server_command(h, {"remove", version, "--missing-ok"});
}
transport::Command gc(const HostContext& h, int keep, bool dry_run) {
  std::vector<std::string> args{"gc", "--keep", std::to_string(keep)};
  if (dry_run) args.push_back("--dry-run");
  return server_command(h, args);
}

transport::Command switch_txn(const HostContext& h, int wait_s) {
  return server_command(h, {"--wait", std::to_string(wait_s), "switch"});
}

transport::Command session(const HostContext& h) { return server_command(h, {"session"}); }

transport::Command run_line(const HostContext& h, const std::string& line, double timeout_s) {
  std::ostringstream t;
  t << timeout_s;  // shortest form: "20", "0.5"
  return server_command(h, {"run", "--timeout", t.str(), "--", line});
}

}  // namespace server_cmd

transport::Command service_command(const HostContext& h, const ServiceEnv& env, const std::string& line,
                                   const std::string& cwd) {
  auto c = transport::Command::shell(line);
  c.cwd(cwd);
  set_service_env(c, h, env);
  return c;
}

transport::Command service_command_timed(const HostContext& h, const ServiceEnv& env, const std::string& line,
                                         const std::string& cwd, double timeout_s) {
  auto c = server_cmd::run_line(h, line, timeout_s);
  c.cwd(cwd);
  set_service_env(c, h, env);
  return c;
}

std::string version_dir(const HostContext& h, const std::string& version) { return h.home + "/deploy/" + version; }

}  // namespace plugbox::orchestrator
