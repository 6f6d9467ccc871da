#include "orchestrator/host_status.h"

#include "base/age_text.h"

namespace plugbox::orchestrator {

namespace {

std::string str_or_empty(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::optional<HostStatus> HostStatus::parse(const std::string& text, std::string* error) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("initialised") || !j["initialised"].is_boolean()) {
    *error = "the host's plugbox-server printed no status JSON that this plugbox reads "
             "(is it the same version as plugbox?)";
    return std::nullopt;
  }
  HostStatus s;
  s.initialised = j["initialised"].get<bool>();
  s.live = str_or_empty(j, "live");
  s.previous = str_or_empty(j, "previous");
  if (auto it = j.find("lock"); it != j.end() && it->is_object()) s.lock_owner = str_or_empty(*it, "owner");
  if (auto it = j.find("versions"); it != j.end() && it->is_array())
    for (const auto& v : *it)
      if (v.is_object()) s.versions.push_back({str_or_empty(v, "name"), str_or_empty(v, "state")});
  if (auto it = j.find("run"); it != j.end() && it->is_object())
    s.last_run = Run{str_or_empty(*it, "run"), str_or_empty(*it, "kind"), str_or_empty(*it, "from"),
                     str_or_empty(*it, "to"), str_or_empty(*it, "state")};
  if (auto it = j.find("service_stopped"); it != j.end() && it->is_boolean()) s.service_stopped = it->get<bool>();
  if (auto it = j.find("transaction"); it != j.end() && it->is_object()) s.transaction = str_or_empty(*it, "state");
  if (auto it = j.find("hold"); it != j.end() && it->is_object()) {
    Hold h{str_or_empty(*it, "owner"), str_or_empty(*it, "since"), str_or_empty(*it, "message"),
           str_or_empty(*it, "problem")};
    if (auto t = it->find("held_s"); t != it->end() && t->is_number_integer()) h.held_s = t->get<long long>();
    // Never guess: a hold whose holder is not said is reported as unreadable.
    if (h.owner.empty() && h.problem.empty()) h.problem = "the host reports a maintenance lock without its holder";
    s.hold = std::move(h);
  }
  s.raw = std::move(j);
  return s;
}

std::string HostStatus::Hold::describe() const {
  if (!problem.empty()) return problem;
  return owner + " for " + base::age_text(held_s) + ": '" + message + "'";
}

std::string HostStatus::Hold::refusal() const {
  if (!problem.empty()) return problem + ", so this host stays locked: `plugbox fleet unlock --force` removes it";
  return "locked for maintenance by " + describe() + "; `plugbox fleet unlock` ends it (--force for someone else's)";
}

}  // namespace plugbox::orchestrator
