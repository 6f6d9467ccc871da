// A reference model of docs/DESIGN.md §3's chain semantics, written as plainly as
// possible (maps, no filesystem), for the randomized and crash tests: each
// command's expected exit status and the exact links it should leave.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace plugbox::server::testing {

struct ChainModel {
  std::map<std::string, bool> ready;  // every version: ready?
  std::map<std::string, std::string> prev, next;
  std::string live;  // "" = none

  bool has(const std::string& v) const { return ready.count(v) > 0; }

  int next_version(const std::string& v) {
    if (has(v)) return 1;
    ready[v] = false;
    if (!live.empty()) prev[v] = live;
    return 0;
  }
  int seal(const std::string& v) {
    if (!has(v)) return 1;
    ready[v] = true;
    return 0;
  }
  int upgrade_to(const std::string& v) {
    if (!has(v) || !ready[v]) return 1;
    if (live == v) return 0;
    if (!live.empty()) {
      prev[v] = live;
      next[live] = v;
    }
    live = v;
    return 0;
  }
  // v == "": the live version's previous.
  int rollback_to(std::string v) {
    if (v.empty()) {
      if (live.empty() || !prev.count(live)) return 1;
      v = prev[live];
    }
    if (!has(v) || !ready[v]) return 1;
    live = v;
    return 0;
  }
  int remove(const std::string& v) {
    if (!has(v) || live == v) return 1;
    std::optional<std::string> p, n;
    if (prev.count(v) && prev[v] != v) p = prev[v];
    if (next.count(v) && next[v] != v) n = next[v];
    for (auto& [w, _] : ready) {
      if (w == v) continue;
      if (prev.count(w) && prev[w] == v) {
        if (p && *p != w) prev[w] = *p;
        else prev.erase(w);
      }
      if (next.count(w) && next[w] == v) {
        if (n && *n != w) next[w] = *n;
        else next.erase(w);
      }
    }
    ready.erase(v);
    prev.erase(v);
    next.erase(v);
    return 0;
  }
  // Returns the versions removed (oldest first), or nullopt for keep < 2.
  std::optional<std::vector<std::string>> gc(int keep) {
    if (keep < 2) return std::nullopt;
    std::set<std::string> kept;
    int n = 0;
    for (auto it = ready.rbegin(); it != ready.rend() && n < keep; ++it)
      if (it->second) {
        kept.insert(it->first);
        ++n;
      }
    if (!live.empty()) {
      kept.insert(live);
      if (prev.count(live)) kept.insert(prev[live]);
    }
    std::vector<std::string> gone;
    for (auto& [v, _] : ready)
      if (!kept.count(v)) gone.push_back(v);
    for (auto& v : gone) remove(v);
    return gone;
  }
};

}  // namespace plugbox::server::testing
