// Which value a host gets for each key: its own, else its most specific
// group's (a child group is more specific than its parents), else [defaults].
// Two groups that both set a key, where neither is a descendant of the other,
// are an error (unless they agree), naming both.
#pragma once

#include <map>
#include <string_view>
#include <vector>

#include "inventory/diagnostics.h"
#include "inventory/document.h"
#include "inventory/group_tree.h"

namespace plugbox::inventory {

using Effective = std::map<std::string_view, const Value*>;

class Precedence {
 public:
  Precedence(const Layer& defaults, const std::vector<GroupDecl>& groups, const GroupTree& tree)
      : defaults_(defaults), groups_(groups), tree_(tree) {}

  // The effective values for host `host` (an index into the host table), whose own table is `own`.
  Effective resolve(size_t host, const std::string& host_name, const Layer& own);

  // Reports every conflict found by resolve(): once per key and pair of
  // groups, with the number of hosts it affects.
  void report(Diagnostics& diag) const;

 private:
  struct Winner {
    const Value* value;
    size_t group;
  };
  struct Conflict {
    std::string_view key;
    size_t a, b;  // unrelated groups that set key differently
  };
  struct GroupLayer {
    std::map<std::string_view, Winner> values;
    std::vector<Conflict> conflicts;
  };
  const GroupLayer& group_layer(const std::vector<size_t>& groups);

  const Layer& defaults_;
  const std::vector<GroupDecl>& groups_;
  const GroupTree& tree_;
  // Hosts of one range share their groups: resolve each set of groups once.
  std::map<std::vector<size_t>, GroupLayer> cache_;
  struct Seen {
    std::string first_host;
    size_t count = 0;
  };
  std::map<std::tuple<std::string_view, size_t, size_t>, Seen> conflicts_;
};

}  // namespace plugbox::inventory
