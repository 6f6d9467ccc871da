// Groups: their members (ranges expanded), their children, which groups are
// more specific than which, and every group each host is in.
#pragma once

#include <vector>

#include "inventory/diagnostics.h"
#include "inventory/document.h"
#include "inventory/host_table.h"

namespace plugbox::inventory {

struct GroupTree {
  struct Node {
    std::vector<size_t> direct_hosts;  // host indices, as listed
    std::vector<size_t> children;      // group indices, as listed
  };
  std::vector<Node> groups;  // parallel to Document::groups
  // descendant[a][b]: b is reached from a through children (a group is not its own descendant).
  std::vector<std::vector<char>> descendant;
  std::vector<std::vector<size_t>> members;      // per group: every host, children's included, in host order
  std::vector<std::vector<size_t>> host_groups;  // per host: every group containing it, in group order

  // "More specific": b is a child, grandchild, ... of a.
  bool is_descendant(size_t a, size_t b) const { return descendant[a][b] != 0; }
};

// Reports unknown hosts and child groups (with "did you mean"), hosts or
// children listed twice, a group that is its own child, and cycles among
// children ("group cycle: a -> b -> a").
GroupTree build_group_tree(const std::vector<GroupDecl>& decls, const HostTable& hosts, Diagnostics& diag);

}  // namespace plugbox::inventory
