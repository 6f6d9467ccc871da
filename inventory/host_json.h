// The JSON form of hosts, as `plugbox inventory list --json` prints them
// (docs/DESIGN.md §4): name, address, port, user, jump_chain, groups, and every other
// setting. Unset settings whose default depends on the service (user, home)
// or on the machine (identity, known_hosts) are null. "origin" says where each
// set value came from: "inventory.toml:LINE:COL" or an ssh config's "FILE:LINE".
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "inventory/inventory.h"

namespace plugbox::inventory {

nlohmann::ordered_json host_to_json(const Host& host);
nlohmann::ordered_json hosts_to_json(const std::vector<const Host*>& hosts);  // an array

}  // namespace plugbox::inventory
