#include "inventory/host_json.h"

namespace plugbox::inventory {
namespace {

nlohmann::ordered_json or_null(const std::string& s) { return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s); }

// Where each value came from; a value at its default has no entry.
nlohmann::ordered_json origin_json(const Host& h) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [key, pos] : h.origin) out[key] = to_string(pos);
  return out;
}

}  // namespace

nlohmann::ordered_json host_to_json(const Host& h) {
  return nlohmann::ordered_json{
      {"name", h.name},
      {"address", h.address},
      {"port", h.port},
      {"user", or_null(h.user)},
      {"jump_chain", h.jump_chain},
      {"groups", h.groups},
      {"home", or_null(h.home)},
      {"server", or_null(h.server)},
      {"server_install", h.server_install},
      {"identity", or_null(h.identity)},
      {"known_hosts", or_null(h.known_hosts)},
      {"host_key_check", std::string(to_string(h.host_key_check))},
      {"transport", std::string(to_string(h.transport))},
      {"vars", h.vars},
      {"origin", origin_json(h)},
  };
}

nlohmann::ordered_json hosts_to_json(const std::vector<const Host*>& hosts) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const Host* h : hosts) out.push_back(host_to_json(*h));
  return out;
}

}  // namespace plugbox::inventory
