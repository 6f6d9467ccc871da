// Placeholder until issue 3 lands: the skeleton links.
#include "inventory/inventory.h"

namespace plugbox::inventory {
std::string Diagnostic::str() const { return pos.file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " + message; }
InventoryError::InventoryError(std::vector<Diagnostic> diags)
    : std::runtime_error(diags.empty() ? "inventory error" : diags.front().str()), diags_(std::move(diags)) {}
Inventory Inventory::load(const std::filesystem::path& file) {
  throw InventoryError({Diagnostic{{file.string(), 0, 0}, "inventory loading is not implemented yet", false}});
}
}  // namespace plugbox::inventory
