// The per-host settings that [defaults], a group's vars and a host may set,
// and how an effective layer of them becomes a Host.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inventory/document.h"
#include "inventory/inventory.h"

namespace plugbox::inventory {

// user, port, identity, home, server, server_install, known_hosts, host_key_check, transport, ssh_config.
const std::vector<std::string>& setting_names();
bool is_setting(std::string_view key);

// Keys only a host's own table may hold (they make no sense for many hosts at once).
const std::vector<std::string>& host_only_keys();  // address, jump

// The setting a free-form var name was most likely meant to be ("adress" ->
// "address", "hostname" -> "address"), or "" when the name is a plain var.
std::string misspelt_setting(std::string_view key);

// "~" and "~/x" -> $HOME, "x" -> base_dir/x. "~user" is not supported:
// returns nullopt and sets *why.
std::optional<std::string> expand_path(std::string_view path, const ReadContext& ctx, std::string* why);

// Copies settings from an effective layer into `host`; free-form vars go to
// host.vars. Values were validated by the reader.
void apply_layer(const std::map<std::string_view, const Value*>& layer, Host& host);

}  // namespace plugbox::inventory
