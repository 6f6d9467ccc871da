// The keys of plugbox.toml, table by table: the reader (service_config.cc)
// refuses any key not listed here, and plugbox.toml(5) is generated from the
// same rows (tools/docgen), so the page lists exactly what is accepted.
#pragma once

#include <vector>

#include "base/config_key.h"

namespace plugbox::orchestrator {

const std::vector<base::ConfigKey>& service_file_tables();  // the top level: service, deploy, hooks
const std::vector<base::ConfigKey>& service_keys();         // [service]
const std::vector<base::ConfigKey>& deploy_keys();          // [deploy]
const std::vector<base::ConfigKey>& hook_keys();            // [hooks] (local_hooks.h)

}  // namespace plugbox::orchestrator
