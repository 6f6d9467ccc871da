#include "inventory/diagnostics.h"

#include <algorithm>

namespace plugbox::inventory {

std::string to_string(const SourcePos& pos) {
  std::string out = pos.file;
  if (pos.line > 0) {
    out += ":" + std::to_string(pos.line);
    if (pos.column > 0) out += ":" + std::to_string(pos.column);
  }
  return out;
}

std::string Diagnostic::str() const {
  std::string out;
  if (!pos.file.empty()) out += to_string(pos) + ": ";
  if (warning) out += "warning: ";
  return out + message;
}

InventoryError::InventoryError(std::vector<Diagnostic> diags)
    : std::runtime_error(diags.empty() ? "inventory error" : diags.front().str()), diags_(std::move(diags)) {}

std::string Diagnostics::where(Loc at) const {
  return file_ + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
}

void Diagnostics::add(Loc at, std::string message, bool warning) {
  if (!seen_.emplace(at.line, at.column, message).second) return;
  all_.push_back(Diagnostic{pos(at), std::move(message), warning});
  if (!warning) ++errors_;
}

void Diagnostics::error(const SourcePos& at, std::string message) {
  for (const auto& d : all_)
    if (d.pos.file == at.file && d.pos.line == at.line && d.message == message) return;
  all_.push_back(Diagnostic{at, std::move(message), false});
  ++errors_;
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = all_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
  });
  return out;
}

std::vector<Diagnostic> Diagnostics::warnings() const {
  std::vector<Diagnostic> out;
  for (const auto& d : sorted())
    if (d.warning) out.push_back(d);
  return out;
}

}  // namespace plugbox::inventory
