// Inventory::session_tree: the sessions the transport opens to reach a set of
// hosts. Every host has one jump chain, so the paths merge into a forest where
// each bastion appears once and carries the tunnels to everything behind it.
#include <unordered_map>

#include "inventory/inventory.h"

namespace plugbox::inventory {
namespace {

struct Flat {
  std::string host;
  std::vector<size_t> children;
  bool target = false;
};

SessionNode materialize(const std::vector<Flat>& flat, size_t i) {
  SessionNode node{flat[i].host, {}, flat[i].target};
  node.children.reserve(flat[i].children.size());
  for (size_t c : flat[i].children) node.children.push_back(materialize(flat, c));
  return node;
}

}  // namespace

std::vector<SessionNode> Inventory::session_tree(const std::vector<const Host*>& targets) const {
  std::vector<Flat> flat;
  std::unordered_map<std::string_view, size_t> at;
  std::vector<size_t> roots;
  for (const Host* t : targets) {
    size_t parent = SIZE_MAX;
    auto visit = [&](const std::string& name) {
      auto [it, fresh] = at.emplace(name, flat.size());
      if (fresh) {
        flat.push_back(Flat{name, {}, false});
        (parent == SIZE_MAX ? roots : flat[parent].children).push_back(it->second);
      }
      parent = it->second;
    };
    for (const auto& hop : t->jump_chain) visit(hop);
    visit(t->name);
    flat[parent].target = true;
  }
  std::vector<SessionNode> out;
  out.reserve(roots.size());
  for (size_t r : roots) out.push_back(materialize(flat, r));
  return out;
}

}  // namespace plugbox::inventory
