// Inventory::to_dot: the inventory as a Graphviz digraph. Hosts are boxes,
// groups folders; solid edges are jumps (from the jump host to the host behind
// it), dashed ones group children, dotted ones group members. Node ids carry
// "h:" / "g:" so a host and a group may share a name.
#include <fmt/format.h>

#include "inventory/inventory.h"

namespace plugbox::inventory {
namespace {

// The inside of a DOT string: quotes and backslashes escaped.
std::string escaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string dot_id(std::string_view s) { return "\"" + escaped(s) + "\""; }

}  // namespace

std::string Inventory::to_dot() const {
  std::string out = "digraph inventory {\n  rankdir=LR;\n  node [shape=box];\n";
  for (const auto& h : hosts_) {
    // Two lines: the name, then where the host is (its address, or its directory for a local host).
    std::string where = h.transport == TransportKind::local ? "local:" + h.home : h.address;
    if (h.transport == TransportKind::ssh && h.port != 22) where += ":" + std::to_string(h.port);
    fmt::format_to(std::back_inserter(out), "  {} [label=\"{}\\n{}\"];\n", dot_id("h:" + h.name), escaped(h.name),
                   escaped(where));
  }
  for (const auto& [name, g] : groups_)
    fmt::format_to(std::back_inserter(out), "  {} [label={}, shape=folder];\n", dot_id("g:" + name), dot_id(name));
  for (const auto& h : hosts_)
    if (!h.jump_chain.empty())
      fmt::format_to(std::back_inserter(out), "  {} -> {} [label=\"jump\"];\n", dot_id("h:" + h.jump_chain.back()),
                     dot_id("h:" + h.name));
  for (const auto& [name, g] : groups_)
    for (const auto& c : g.children)
      fmt::format_to(std::back_inserter(out), "  {} -> {} [style=dashed];\n", dot_id("g:" + name), dot_id("g:" + c));
  for (const auto& [name, g] : groups_)
    for (const auto& h : g.hosts)
      fmt::format_to(std::back_inserter(out), "  {} -> {} [style=dotted, arrowhead=none];\n", dot_id("g:" + name),
                     dot_id("h:" + h));
  return out + "}\n";
}

}  // namespace plugbox::inventory
