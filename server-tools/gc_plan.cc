#include "server-tools/gc_plan.h"

#include <set>

#include "server-tools/errors.h"

namespace plugbox::server {

GcPlan plan_gc(const ChainState& state, unsigned keep) {
  if (keep < 2)
    bad_input("gc --keep " + std::to_string(keep) +
              " would leave nothing to roll back to: keep at least 2");
  GcPlan plan;
  plan.keep = keep;
  std::set<std::string> keep_set;
  unsigned ready = 0;
  for (auto it = state.versions.rbegin(); it != state.versions.rend() && ready < keep; ++it) {
    if (it->second.state() != VersionState::ready) continue;
    keep_set.insert(it->first);
    ++ready;
  }
  if (auto live = state.live_name()) {
    keep_set.insert(*live);
    if (const VersionView* v = state.find(*live); v && v->previous.ok())
      keep_set.insert(v->previous.target);
  }
  for (const auto& [name, v] : state.versions)
    if (!keep_set.count(name)) plan.remove.push_back(name);
  plan.kept.assign(keep_set.rbegin(), keep_set.rend());
  plan.stale_records = state.stale_records;
  return plan;
}

}  // namespace plugbox::server
