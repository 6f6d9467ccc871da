// Inventory::select: the hosts a fleet command targets. Groups bring their
// children's hosts; --host items are exact names, ranges ("web[01:03]") or
// fnmatch globs ("web0*"). The result is the union, in inventory order.
#include <fmt/format.h>
#include <fnmatch.h>

#include "inventory/inventory.h"
#include "inventory/range.h"
#include "base/suggest.h"

namespace plugbox::inventory {

std::vector<const Host*> Inventory::select(const Selection& sel) const {
  std::vector<Diagnostic> errors;
  auto fail = [&](std::string message) { errors.push_back(Diagnostic{{file_, 0, 0}, std::move(message), false}); };
  std::vector<char> chosen(hosts_.size(), 0);
  auto choose = [&](std::string_view name) {
    if (auto it = index_.find(name); it != index_.end()) chosen[it->second] = 1;
  };

  if (sel.groups.empty() && sel.host_patterns.empty())
    fail("no hosts selected: choose them with --group GROUP or --host NAME[,NAME...]");

  std::vector<std::string> group_names, host_names;
  for (const auto& [name, g] : groups_) group_names.push_back(name);
  for (const auto& g : sel.groups) {
    auto it = groups_.find(g);
    if (it == groups_.end()) {
      fail(fmt::format("unknown group '{}'{}", g, base::did_you_mean(g, group_names)));
      continue;
    }
    if (it->second.all_hosts.empty()) fail(fmt::format("group '{}' has no hosts", g));
    for (const auto& h : it->second.all_hosts) choose(h);
  }

  for (const auto& pattern : sel.host_patterns) {
    if (host_names.empty())
      for (const auto& h : hosts_) host_names.push_back(h.name);
    Expansion ex = expand_name(pattern);
    if (!ex.problem) {  // an exact name, or a range
      std::vector<std::string> unknown;
      for (const auto& item : ex.items)
        if (find(item.name)) choose(item.name);
        else unknown.push_back(item.name);
      if (unknown.size() == 1 && !ex.is_range)
        fail(fmt::format("unknown host '{}'{}", pattern, base::did_you_mean(pattern, host_names)));
      else if (!unknown.empty())
        fail(fmt::format("--host '{}': {}{} not in the inventory", pattern, unknown.front(),
                         unknown.size() > 1 ? fmt::format(" (and {} more) are", unknown.size() - 1) : " is"));
      continue;
    }
    // "web[1:]" is a broken range, not a glob: a bracket with ':' in it is never a useful glob class.
    const size_t open = pattern.find('['), close = pattern.find(']', open == std::string::npos ? 0 : open);
    const bool range_like = open != std::string::npos &&
                            (close == std::string::npos || pattern.substr(open, close - open).find(':') != std::string::npos);
    if (range_like || pattern.find_first_of("*?[") == std::string::npos) {
      fail(fmt::format("--host '{}': {}", pattern, ex.problem->message));
      continue;
    }
    bool any = false;
    for (const auto& h : hosts_)
      if (!h.jump_only && fnmatch(pattern.c_str(), h.name.c_str(), 0) == 0) {
        choose(h.name);
        any = true;
      }
    if (!any) fail(fmt::format("--host '{}' matches no host", pattern));
  }

  std::vector<const Host*> out;
  for (size_t i = 0; i < hosts_.size(); ++i)
    if (chosen[i]) out.push_back(&hosts_[i]);
  if (out.empty() && errors.empty()) fail("the selection is empty");
  if (!errors.empty()) throw InventoryError(std::move(errors));
  return out;
}

}  // namespace plugbox::inventory
