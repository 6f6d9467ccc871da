// Which inventory file a command uses (docs/DESIGN.md §8): -i, else
// $PLUGBOX_INVENTORY, else ./inventory.toml. An inventory that was asked for
// and is missing is an error, never a reason to fall back to another file:
// falling back would run commands on a fleet nobody named.
#include <fmt/format.h>

#include <cstdlib>

#include "inventory/inventory.h"

namespace plugbox::inventory {

std::filesystem::path resolve_inventory_path(const std::optional<std::string>& cli_value) {
  namespace fs = std::filesystem;
  fs::path path;
  std::string why;
  if (cli_value) {
    path = *cli_value;
    why = "given with -i";
  } else if (const char* env = std::getenv("PLUGBOX_INVENTORY"); env && *env) {
    path = env;
    why = "from $PLUGBOX_INVENTORY, as no -i was given";
  } else {
    path = "inventory.toml";
    why = "no -i was given and $PLUGBOX_INVENTORY is not set";
  }
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return path;
  std::string problem = fs::exists(path, ec) ? "is not a regular file" : "does not exist";
  throw InventoryError({Diagnostic{
      {"", 0, 0},
      fmt::format("no inventory: tried '{}' ({}), which {}; pass -i FILE or set $PLUGBOX_INVENTORY", path.string(),
                  why, problem),
      false}});
}

}  // namespace plugbox::inventory
