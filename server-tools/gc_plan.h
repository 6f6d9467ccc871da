// What `gc --keep N` removes (docs/DESIGN.md §3), decided from a snapshot alone so the
// plan can be printed (--dry-run) or tested without touching a disk.
#pragma once

#include <string>
#include <vector>

#include "server-tools/chain_state.h"

namespace plugbox::server {

struct GcPlan {
  unsigned keep = 0;
  std::vector<std::string> kept;           // newest first
  std::vector<std::string> remove;         // oldest first: the order gc removes them in
  std::vector<std::string> stale_records;  // records without a version directory
  bool empty() const { return remove.empty() && stale_records.empty(); }
};

// Keeps the `keep` newest ready versions (by name), the live version and the
// live version's previous whatever their age; every other version goes,
// staged leftovers (and directories without a readable record) included.
// keep < 2 is bad input: gc must always leave a version to roll back to.
GcPlan plan_gc(const ChainState& state, unsigned keep);

}  // namespace plugbox::server
