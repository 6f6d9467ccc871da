#include "orchestrator/step.h"

#include <algorithm>

namespace plugbox::orchestrator {

std::string render(const Steps& steps, const std::string& indent) {
  std::string out;
  for (const auto& s : steps) {
    out += indent + s.command.render();
    if (s.tolerate_failure) out += "   (" + s.name + ": a failure is recorded and the next step runs)";
    out += "\n";
  }
  return out;
}

namespace {

const char* effect_name(Effect e) {
  switch (e) {
    case Effect::stops_service: return "stop";
    case Effect::switches_live: return "switch";
    case Effect::starts_service: return "start";
    case Effect::none: break;
  }
  return "none";
}

}  // namespace

nlohmann::json to_json(const Step& s) {
  if (!s.server_op.empty())
    return {{"name", s.name}, {"op", s.server_op}, {"version", s.server_arg}, {"timeout", s.timeout_s},
            {"tolerate_failure", s.tolerate_failure}, {"effect", effect_name(s.effect)}};
  nlohmann::json env = nlohmann::json::object();
  for (const auto& [k, v] : s.command.environment()) env[k] = v;
  return {{"name", s.name},
          {s.command.is_shell() ? "shell" : "argv", s.command.is_shell() ? nlohmann::json(s.command.words().front())
                                                                          : nlohmann::json(s.command.words())},
          {"env", env},
          {"cwd", s.command.directory()},
          {"timeout", s.timeout_s},
          {"tolerate_failure", s.tolerate_failure},
          {"read_only", s.read_only},
          {"effect", effect_name(s.effect)}};
}

nlohmann::json to_json(const Steps& steps) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& s : steps) a.push_back(to_json(s));
  return a;
}

void SwitchProgress::note(const Steps& steps, std::size_t begun, const std::vector<std::size_t>& skipped) {
  for (std::size_t i = 0; i < begun && i < steps.size(); ++i) {
    if (std::find(skipped.begin(), skipped.end(), i) != skipped.end()) continue;
    switch (steps[i].effect) {
      case Effect::stops_service: stopped = true; break;
      case Effect::switches_live: switched = true; break;
      case Effect::starts_service:
      case Effect::none: break;
    }
  }
}

bool has_live_switch(const Steps& steps) {
  return std::any_of(steps.begin(), steps.end(), [](const Step& s) { return s.effect == Effect::switches_live; });
}

}  // namespace plugbox::orchestrator
