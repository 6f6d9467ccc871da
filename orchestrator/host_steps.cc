#include "orchestrator/host_steps.h"

#include <algorithm>

namespace plugbox::orchestrator {

namespace {

void add_lines(Steps& out, const StepContext& c, const ServiceEnv& env, const std::string& name,
               const std::vector<std::string>& lines, const std::string& cwd, Effect effect, bool tolerate = false) {
  for (const auto& line : lines)
    out.push_back(Step{name, service_command(c.host, env, line, cwd), c.timeout_s, tolerate, false, effect, "", ""});
}

Step chain_step(const std::string& op, const std::string& version, transport::Command cmd, const StepContext& c) {
  return Step{op, std::move(cmd), c.timeout_s, false, false, Effect::switches_live, op, version};
}

}  // namespace

Steps switch_steps(const StepContext& c, const std::string& to, const std::string& from) {
  const auto& svc = c.service;
  ServiceEnv env{svc.name, to, from};
  const bool first = from.empty();
  const bool refresh = !svc.refresh.empty() && !first;
  Steps out;
  if (!first && svc.refresh.empty())
    add_lines(out, c, env, "stop", svc.stop, c.host.home, Effect::stops_service);
  out.push_back(chain_step("upgrade-to", to, server_cmd::upgrade_to(c.host, to), c));
  if (refresh) add_lines(out, c, env, "refresh", svc.refresh, c.host.home, Effect::starts_service);
  else add_lines(out, c, env, "start", svc.start, c.host.home, Effect::starts_service);
  return out;
}

std::optional<Step> health_step(const StepContext& c, const std::string& to, const std::string& from,
                                double health_timeout_s) {
  if (c.service.health.empty()) return std::nullopt;
  ServiceEnv env{c.service.name, to, from};
  // The host times the check and kills what it started (plugbox-server run);
  // we wait longer than it does, to hear its answer: the 2 s it gives a
  // killed group between TERM and KILL, and as long as the check again for
  // starting it and the reply's way back (a slow or loaded host), 5 s at
  // most. (min(5, timeout) was too short for a 1 s check on a loaded host:
  // the client gave up before the host's answer came.)
  const double grace = std::min(5.0, 2.0 + health_timeout_s);
  return Step{"health",
              service_command_timed(c.host, env, c.service.health, c.host.home, health_timeout_s),
              health_timeout_s + grace,
              false,
              false,
              Effect::none,
              "",
              ""};
}

Steps rollback_steps(const StepContext& c, const std::string& to, const std::string& from) {
  const auto& svc = c.service;
  ServiceEnv env{svc.name, to, from};
  Steps out;
  add_lines(out, c, env, "stop", svc.stop, c.host.home, Effect::stops_service, /*tolerate=*/true);
  out.push_back(chain_step("rollback-to", to, server_cmd::rollback_to(c.host, to), c));
  add_lines(out, c, env, "start", svc.start, c.host.home, Effect::starts_service);
  return out;
}

Steps undo_steps(const StepContext& c, const SwitchProgress& progress, const std::string& live_before,
                 const std::string& version) {
  if (progress.switched) return rollback_steps(c, live_before, version);
  Steps out;
  if (progress.stopped)
    add_lines(out, c, ServiceEnv{c.service.name, live_before, version}, "start", c.service.start, c.host.home,
              Effect::starts_service);
  return out;
}

Steps post_upload_steps(const StepContext& c, const std::string& version, const std::string& live_before) {
  Steps out;
  add_lines(out, c, ServiceEnv{c.service.name, version, live_before}, "post_upload", c.service.post_upload,
            version_dir(c.host, version), Effect::none);
  return out;
}

}  // namespace plugbox::orchestrator
