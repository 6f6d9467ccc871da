// Inventory: loading ties the stages together (read -> build), and a loaded
// inventory answers lookups. Selection, sessions and DOT have their own files.
#include "inventory/inventory.h"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "inventory/builder.h"
#include "inventory/diagnostics.h"
#include "inventory/toml_reader.h"

namespace plugbox::inventory {
namespace {

std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h && *h) return h;
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "";
}

std::string local_user() {
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_name) return pw->pw_name;
  if (const char* u = std::getenv("USER"); u && *u) return u;
  return "";
}

}  // namespace

std::string_view to_string(HostKeyCheck v) {
  switch (v) {
    case HostKeyCheck::strict: return "strict";
    case HostKeyCheck::accept_new: return "accept-new";
    case HostKeyCheck::off: return "off";
  }
  return "strict";
}

std::string_view to_string(TransportKind v) { return v == TransportKind::local ? "local" : "ssh"; }

Inventory Inventory::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    const int err = errno;
    throw InventoryError({Diagnostic{{file.string(), 0, 0},
                                     fmt::format("cannot read the inventory: {}", std::strerror(err)), false}});
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    throw InventoryError({Diagnostic{{file.string(), 0, 0}, "cannot read the inventory: read error", false}});
  return parse(text.str(), file.string());
}

Inventory Inventory::parse(std::string_view toml_text, const std::string& file_name) {
  Diagnostics diag(file_name);
  std::error_code ec;
  ReadContext ctx{std::filesystem::absolute(file_name, ec).parent_path(), home_dir(), local_user()};
  Document doc = read_document(toml_text, ctx, diag);
  Built built;
  if (doc.parsed) built = build_inventory(doc, ctx, diag);
  if (diag.has_errors()) throw InventoryError(diag.sorted());

  Inventory inv;
  inv.file_ = file_name;
  inv.hosts_ = std::move(built.hosts);
  inv.groups_ = std::move(built.groups);
  inv.warnings_ = diag.warnings();
  for (size_t i = 0; i < inv.hosts_.size(); ++i) inv.index_.emplace(inv.hosts_[i].name, i);
  return inv;
}

const Host* Inventory::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &hosts_[it->second];
}

std::vector<const Host*> Inventory::bastions() const {
  std::set<std::string_view> used;
  for (const auto& h : hosts_)
    for (const auto& j : h.jump_chain) used.insert(j);
  std::vector<const Host*> out;
  for (const auto& h : hosts_)
    if (used.count(h.name)) out.push_back(&h);
  return out;
}

std::vector<std::string> split_host_list(std::string_view csv) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= csv.size()) {
    size_t comma = csv.find(',', start);
    if (comma == std::string_view::npos) comma = csv.size();
    std::string_view item = csv.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

}  // namespace plugbox::inventory
