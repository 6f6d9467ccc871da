#include "inventory/precedence.h"

#include <fmt/format.h>

namespace plugbox::inventory {

const Precedence::GroupLayer& Precedence::group_layer(const std::vector<size_t>& groups) {
  if (auto it = cache_.find(groups); it != cache_.end()) return it->second;
  GroupLayer out;
  std::map<std::string_view, std::vector<size_t>> setters;
  for (size_t g : groups)
    for (const auto& [key, value] : groups_[g].vars) setters[key].push_back(g);
  for (const auto& [key, gs] : setters) {
    // The most specific setters: those with no setter below them.
    std::vector<size_t> specific;
    for (size_t g : gs) {
      bool has_more_specific = false;
      for (size_t other : gs)
        if (other != g && tree_.is_descendant(g, other)) has_more_specific = true;
      if (!has_more_specific) specific.push_back(g);
    }
    if (specific.empty()) specific.push_back(gs.front());  // only on a group cycle, reported elsewhere
    const Value* first = &groups_[specific[0]].vars.find(key)->second;
    for (size_t i = 1; i < specific.size(); ++i) {
      const Value* v = &groups_[specific[i]].vars.find(key)->second;
      if (v->text != first->text) {
        out.conflicts.push_back(Conflict{key, specific[0], specific[i]});
        break;
      }
    }
    out.values.emplace(key, Winner{first, specific[0]});
  }
  return cache_.emplace(groups, std::move(out)).first->second;
}

Effective Precedence::resolve(size_t host, const std::string& host_name, const Layer& own) {
  Effective eff;
  for (const auto& [key, value] : own) eff.emplace(key, &value);
  const GroupLayer& gl = group_layer(tree_.host_groups[host]);
  for (const auto& [key, w] : gl.values) eff.emplace(key, w.value);  // emplace: the host's own value stays
  for (const auto& [key, value] : defaults_) eff.emplace(key, &value);
  for (const auto& c : gl.conflicts) {
    if (own.find(c.key) != own.end()) continue;  // the host settles it
    Seen& s = conflicts_[{c.key, c.a, c.b}];
    if (s.count++ == 0) s.first_host = host_name;
  }
  return eff;
}

void Precedence::report(Diagnostics& diag) const {
  for (const auto& [k, seen] : conflicts_) {
    const auto& [key, a, b] = k;
    const Value& va = groups_[a].vars.find(key)->second;
    const Value& vb = groups_[b].vars.find(key)->second;
    diag.error(vb.loc,
               fmt::format("groups '{}' and '{}' both set '{}' for host '{}'{}: \"{}\" (at {}) and \"{}\"; neither "
                           "group is inside the other, so neither wins: make one a child of the other, or set '{}' on "
                           "the host",
                           groups_[a].name.text, groups_[b].name.text, key, seen.first_host,
                           seen.count > 1 ? fmt::format(" (and {} more)", seen.count - 1) : "", va.text,
                           diag.where(va.loc), vb.text, key));
  }
}

}  // namespace plugbox::inventory
