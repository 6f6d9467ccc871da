// The four man pages plugbox installs, and what each says beyond the command
// and key definitions it is generated from: exit statuses, environment,
// files, examples, see also.
#pragma once

#include <string>

#include "tools/docgen/cli_tree.h"

namespace plugbox::docgen {

std::string plugbox_page(const CommandDoc& plugbox);          // plugbox(1)
std::string plugbox_server_page(const CommandDoc& server);    // plugbox-server(1)
std::string inventory_toml_page();                            // inventory.toml(5)
std::string plugbox_toml_page();                              // plugbox.toml(5)

}  // namespace plugbox::docgen
