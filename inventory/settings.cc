#include "inventory/settings.h"

#include <algorithm>
#include <cctype>

#include "base/suggest.h"

namespace plugbox::inventory {

const std::vector<std::string>& setting_names() {
  static const std::vector<std::string> names{"user",        "port",           "identity",  "home", "server",
                                              "server_install", "known_hosts", "host_key_check", "transport",
                                              "ssh_config"};
  return names;
}

bool is_setting(std::string_view key) {
  const auto& n = setting_names();
  return std::find(n.begin(), n.end(), key) != n.end();
}

const std::vector<std::string>& host_only_keys() {
  static const std::vector<std::string> keys{"address", "jump"};
  return keys;
}

std::string misspelt_setting(std::string_view key) {
  // Names people bring from ssh_config and other tools: a var by that name is
  // almost surely a setting that would otherwise be silently ignored.
  static const std::vector<std::pair<std::string, std::string>> aliases{
      {"addr", "address"},       {"hostname", "address"},     {"host", "address"},     {"ip", "address"},
      {"proxyjump", "jump"},     {"proxy_jump", "jump"},      {"jump_host", "jump"},   {"jumphost", "jump"},
      {"username", "user"},      {"ssh_user", "user"},        {"ssh_port", "port"},    {"identity_file", "identity"},
      {"identityfile", "identity"}, {"key_file", "identity"}, {"userknownhostsfile", "known_hosts"},
      {"stricthostkeychecking", "host_key_check"}, {"sshconfig", "ssh_config"}};
  std::string norm;
  for (char c : key) norm.push_back(c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  for (const auto& [alias, setting] : aliases)
    if (norm == alias) return setting;
  std::vector<std::string> known = setting_names();
  known.insert(known.end(), host_only_keys().begin(), host_only_keys().end());
  for (const auto& k : known)
    if (norm == k) return k;  // "Port", "known-hosts"
  // Fewer edits than closest_match allows: free-form vars are legitimate, only near misses are refused.
  const size_t limit = key.size() <= 5 ? 1 : 2;
  for (const auto& k : known)
    if (base::edit_distance(norm, k) <= limit) return k;
  return "";
}

std::optional<std::string> expand_path(std::string_view path, const ReadContext& ctx, std::string* why) {
  std::filesystem::path p;
  if (path == "~" || path.rfind("~/", 0) == 0) {
    if (ctx.home_dir.empty()) {
      *why = "'~' cannot be expanded: $HOME is not set";
      return std::nullopt;
    }
    p = std::filesystem::path(ctx.home_dir) / std::string(path.size() > 2 ? path.substr(2) : "");
  } else if (path.rfind('~', 0) == 0) {
    *why = "only '~' and '~/' are expanded; write the full path";
    return std::nullopt;
  } else {
    p = std::string(path);
    // Relative to the inventory, not to wherever plugbox happens to run.
    if (p.is_relative()) p = ctx.base_dir / p;
  }
  std::string out = p.lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

void apply_layer(const std::map<std::string_view, const Value*>& layer, Host& host) {
  for (const auto& [key, value] : layer) {
    const std::string& v = value->text;
    if (key == "user") host.user = v;
    else if (key == "port") host.port = std::stoi(v);
    else if (key == "identity") host.identity = v;
    else if (key == "home") host.home = v;
    else if (key == "server") host.server = v;
    else if (key == "server_install") host.server_install = v == "true";
    else if (key == "known_hosts") host.known_hosts = v;
    else if (key == "host_key_check")
      host.host_key_check = v == "off" ? HostKeyCheck::off : v == "accept-new" ? HostKeyCheck::accept_new : HostKeyCheck::strict;
    else if (key == "transport") host.transport = v == "local" ? TransportKind::local : TransportKind::ssh;
    else if (key == "ssh_config") continue;  // read by the builder (ssh_config_hosts.h)
    else host.vars.emplace(std::string(key), v);
  }
}

}  // namespace plugbox::inventory
