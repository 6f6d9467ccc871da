#include "inventory/group_tree.h"

#include <fmt/format.h>

#include <map>
#include <unordered_map>

#include "inventory/graph.h"
#include "inventory/range.h"
#include "base/suggest.h"

namespace plugbox::inventory {
namespace {

void add_members(const GroupDecl& g, const HostTable& hosts, GroupTree::Node& node, Diagnostics& diag) {
  std::unordered_map<size_t, Loc> listed;  // host -> where this group first lists it
  for (const Ref& ref : g.hosts) {
    Expansion ex = expand_name(ref.text);
    if (ex.problem) {
      diag.error(Loc{ref.text_loc.line, ref.text_loc.column + static_cast<int>(ex.problem->offset)},
                 ex.problem->message);
      continue;
    }
    std::string unknown;
    size_t unknown_count = 0, twice_count = 0;
    std::string twice;
    Loc twice_loc;
    for (const auto& item : ex.items) {
      auto h = hosts.find(item.name);
      if (!h) {
        if (unknown_count++ == 0) unknown = item.name;
        continue;
      }
      auto [it, fresh] = listed.emplace(*h, ref.loc);
      if (!fresh) {
        if (twice_count++ == 0) twice = item.name, twice_loc = it->second;
        continue;
      }
      node.direct_hosts.push_back(*h);
    }
    if (unknown_count == 1 && !ex.is_range)
      diag.error(ref.loc, fmt::format("group '{}' lists unknown host '{}'{}", g.name.text, unknown,
                                      base::did_you_mean(unknown, hosts.names)));
    else if (unknown_count > 0)
      diag.error(ref.loc, fmt::format("group '{}' lists '{}', but {}{} not declared in [hosts]", g.name.text, ref.text,
                                      unknown, unknown_count > 1 ? fmt::format(" (and {} more) are", unknown_count - 1)
                                                                 : std::string(" is")));
    if (twice_count > 0)
      diag.error(ref.loc, fmt::format("group '{}' lists host '{}'{} more than once (first at {})", g.name.text, twice,
                                      twice_count > 1 ? fmt::format(" (and {} more)", twice_count - 1) : "",
                                      diag.where(twice_loc)));
  }
}

}  // namespace

GroupTree build_group_tree(const std::vector<GroupDecl>& decls, const HostTable& hosts, Diagnostics& diag) {
  const size_t n = decls.size();
  GroupTree tree;
  tree.groups.resize(n);
  std::unordered_map<std::string, size_t> index;
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i) {
    index.emplace(decls[i].name.text, i);
    names.push_back(decls[i].name.text);
  }

  Digraph children_graph{n, {}};
  std::map<std::pair<size_t, size_t>, Loc> edge_loc;  // where each child link is written
  for (size_t i = 0; i < n; ++i) {
    const GroupDecl& g = decls[i];
    add_members(g, hosts, tree.groups[i], diag);
    std::unordered_map<size_t, Loc> listed;
    for (const Ref& c : g.children) {
      auto it = index.find(c.text);
      if (it == index.end()) {
        diag.error(c.loc, fmt::format("group '{}' has unknown child group '{}'{}", g.name.text, c.text,
                                      base::did_you_mean(c.text, names)));
        continue;
      }
      if (it->second == i) {
        diag.error(c.loc, fmt::format("group '{}' lists itself as a child", g.name.text));
        continue;
      }
      if (auto [first, fresh] = listed.emplace(it->second, c.loc); !fresh) {
        diag.error(c.loc, fmt::format("group '{}' lists child group '{}' more than once (first at {})", g.name.text,
                                      c.text, diag.where(first->second)));
        continue;
      }
      tree.groups[i].children.push_back(it->second);
      children_graph.edges.emplace_back(i, it->second);
      edge_loc.emplace(std::pair{i, it->second}, c.loc);
    }
    // hosts = [] is a deliberate placeholder; no such key at all is more likely a mistake ("members = ...").
    if (!g.lists_members)
      diag.warning(g.name.loc, fmt::format("group '{}' has no hosts and no children", g.name.text));
  }

  for (const auto& cycle : find_cycles(children_graph)) {
    std::string path;
    for (size_t v : cycle) path += (path.empty() ? "" : " -> ") + decls[v].name.text;
    diag.error(edge_loc.at({cycle[0], cycle[1]}),
               fmt::format("group cycle: {} (each lists the next as a child); a group cannot contain itself", path));
  }

  // Reachability through children; with a cycle (already reported) the search still ends.
  tree.descendant.assign(n, std::vector<char>(n, 0));
  for (size_t a = 0; a < n; ++a) {
    std::vector<size_t> stack(tree.groups[a].children.begin(), tree.groups[a].children.end());
    while (!stack.empty()) {
      size_t b = stack.back();
      stack.pop_back();
      if (b == a || tree.descendant[a][b]) continue;
      tree.descendant[a][b] = 1;
      for (size_t c : tree.groups[b].children) stack.push_back(c);
    }
  }

  const size_t host_count = hosts.hosts.size();
  tree.members.resize(n);
  tree.host_groups.resize(host_count);
  std::vector<char> in(host_count);
  for (size_t a = 0; a < n; ++a) {
    std::fill(in.begin(), in.end(), 0);
    for (size_t h : tree.groups[a].direct_hosts) in[h] = 1;
    for (size_t b = 0; b < n; ++b)
      if (tree.descendant[a][b])
        for (size_t h : tree.groups[b].direct_hosts) in[h] = 1;
    for (size_t h = 0; h < host_count; ++h)
      if (in[h]) {
        tree.members[a].push_back(h);
        tree.host_groups[h].push_back(a);
      }
  }
  return tree;
}

}  // namespace plugbox::inventory
