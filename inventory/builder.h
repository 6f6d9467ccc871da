// Turns a Document into the hosts and groups an Inventory holds: expands
// ranges, resolves groups, jump chains and precedence, and checks what can only
// be checked per host (a local host needs a home, an SSH home is absolute...).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "inventory/diagnostics.h"
#include "inventory/document.h"
#include "inventory/inventory.h"

namespace plugbox::inventory {

struct Built {
  std::vector<Host> hosts;  // file order
  std::map<std::string, Group> groups;
};

// Every problem goes to `diag`; the result is meaningful only without errors.
Built build_inventory(const Document& doc, const ReadContext& ctx, Diagnostics& diag);

}  // namespace plugbox::inventory
