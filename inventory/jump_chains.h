// Jump links between hosts, and each host's chain of jump hosts.
//
// `jump = "b"` says "this host is reached through b". `jump = ["a", "b"]` is a
// whole chain, outermost first: it also says that b is reached through a and
// that a is reached directly. Every host has one way in, so all of these must
// agree; the host's own `jump` is the reference when they do not.
#pragma once

#include <optional>
#include <vector>

#include "inventory/diagnostics.h"
#include "inventory/document.h"
#include "inventory/host_table.h"

namespace plugbox::inventory {

struct JumpLinks {
  bool resolved = false;                     // false: errors were reported, chains is empty
  std::vector<std::optional<size_t>> via;    // per host: the host it is reached through
  std::vector<Loc> via_loc;                  // where that link was written
  std::vector<std::vector<size_t>> chains;   // per host: jump hosts, outermost first
};

// Reports unknown jump hosts ("did you mean"), self-jumps, a host named twice
// in one jump list, links that disagree, and cycles ("jump cycle: alpha ->
// beta -> alpha", each jumping through the next). The chains are computed in
// topological order, each once.
JumpLinks resolve_jumps(const std::vector<HostDecl>& decls, const HostTable& hosts, Diagnostics& diag);

}  // namespace plugbox::inventory
