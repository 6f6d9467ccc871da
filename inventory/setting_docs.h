// What each key of inventory.toml means, table by table: inventory.toml(5) is
// generated from these rows (tools/docgen). The reader (toml_reader.cc) takes
// its top-level and group key lists from here; the per-host settings are
// settings.h's, and setting_docs_test.cc checks every one of them has a row
// here and every row here is one of them.
#pragma once

#include <vector>

#include "base/config_key.h"

namespace plugbox::inventory {

const std::vector<base::ConfigKey>& inventory_tables();     // top level: defaults, hosts, groups
const std::vector<base::ConfigKey>& group_keys();           // [groups.NAME]: hosts, children, vars
const std::vector<base::ConfigKey>& setting_docs();         // setting_names(), in their order
const std::vector<base::ConfigKey>& host_only_key_docs();   // host_only_keys(), in their order

}  // namespace plugbox::inventory
