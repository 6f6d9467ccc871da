#include "orchestrator/commands.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "inventory/inventory.h"

namespace plugbox::cli {

void bad_input(const std::vector<inventory::Diagnostic>& diags) {
  for (const auto& d : diags) std::cerr << (d.pos.file.empty() ? "plugbox: " : "") << d.str() << "\n";
  throw CLI::RuntimeError(kBadInput);
}

void bad_input(const std::string& line) {
  std::cerr << "plugbox: " << line << "\n";
  throw CLI::RuntimeError(kBadInput);
}

}  // namespace plugbox::cli
