#include "orchestrator/host_status.h"

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
  s.raw = std::move(j);
  return s;
}

}  // namespace plugbox::orchestrator
