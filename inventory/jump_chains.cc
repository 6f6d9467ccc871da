#include "inventory/jump_chains.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "inventory/graph.h"
#include "base/suggest.h"

namespace plugbox::inventory {
namespace {

struct Claim {
  std::optional<size_t> via;  // nullopt: reached directly
  Loc loc;
  size_t decl;  // the declaration whose jump key says so
  bool own;     // the host's own jump, not a hop of somebody else's list
};

std::string how(const std::optional<size_t>& via, const HostTable& hosts) {
  return via ? fmt::format("through '{}'", hosts.hosts[*via].name) : std::string("directly");
}

}  // namespace

JumpLinks resolve_jumps(const std::vector<HostDecl>& decls, const HostTable& hosts, Diagnostics& diag) {
  const size_t n = hosts.hosts.size();
  JumpLinks out;
  out.via.assign(n, std::nullopt);
  out.via_loc.assign(n, Loc{});
  std::vector<std::vector<Claim>> claims(n);
  bool failed = false;

  // A list's inner links are the same for every host of a range: record them once per declaration.
  std::set<std::pair<size_t, size_t>> list_links_done;  // (declaration, list position)
  for (size_t h = 0; h < n; ++h) {
    const size_t d = hosts.hosts[h].decl;
    const HostDecl& decl = decls[d];
    if (decl.jump.empty()) continue;
    std::vector<size_t> ids;
    for (const Ref& r : decl.jump) {
      auto id = hosts.find(r.text);
      if (!id) {
        diag.error(r.loc, fmt::format("host '{}' jumps through unknown host '{}'{}", decl.name.text, r.text,
                                      base::did_you_mean(r.text, hosts.names)));
        failed = true;
        break;
      }
      if (*id == h) {
        diag.error(r.loc, fmt::format("host '{}' jumps through itself; remove '{}' from its jump", hosts.hosts[h].name,
                                      r.text));
        failed = true;
        break;
      }
      if (std::find(ids.begin(), ids.end(), *id) != ids.end()) {
        diag.error(r.loc, fmt::format("the jump list of host '{}' names '{}' twice", decl.name.text, r.text));
        failed = true;
        break;
      }
      ids.push_back(*id);
    }
    if (ids.size() != decl.jump.size()) continue;
    claims[h].push_back(Claim{ids.back(), decl.jump.back().loc, d, true});
    for (size_t i = 0; decl.jump_is_list && i < ids.size(); ++i) {
      if (!list_links_done.emplace(d, i).second) continue;
      std::optional<size_t> via = i == 0 ? std::nullopt : std::optional<size_t>(ids[i - 1]);
      claims[ids[i]].push_back(Claim{via, decl.jump[i].loc, d, false});
    }
  }

  // One way in per host: its own jump when it has one, else the first list that reaches it.
  for (size_t h = 0; h < n; ++h) {
    auto& cs = claims[h];
    if (cs.empty()) continue;
    auto ref = std::find_if(cs.begin(), cs.end(), [](const Claim& c) { return c.own; });
    if (ref == cs.end()) ref = cs.begin();
    out.via[h] = ref->via;
    out.via_loc[h] = ref->loc;
    for (const Claim& c : cs) {
      if (c.via == ref->via) continue;
      failed = true;
      const std::string name = hosts.hosts[h].name;
      std::string reference =
          ref->own ? fmt::format("its own jump (at {}) reaches it {}", diag.where(ref->loc), how(ref->via, hosts))
                   : fmt::format("the jump list of host '{}' (at {}) reaches it {}", decls[ref->decl].name.text,
                                 diag.where(ref->loc), how(ref->via, hosts));
      // A list claim that the host is reached directly only happens when it sits first in a list.
      std::string what = c.via ? fmt::format("the jump list of host '{}' reaches '{}' {}", decls[c.decl].name.text,
                                             name, how(c.via, hosts))
                               : fmt::format("the jump list of host '{}' starts at '{}', so it is reached directly",
                                             decls[c.decl].name.text, name);
      diag.error(c.loc, fmt::format("{}, but {}; a host has one way in: make them agree", what, reference));
    }
  }

  // Edges point the way of `jump`: from a host to the host it is reached through.
  Digraph g{n, {}};
  for (size_t h = 0; h < n; ++h)
    if (out.via[h]) g.edges.emplace_back(h, *out.via[h]);
  const auto cycles = find_cycles(g);
  for (const auto& cycle : cycles) {
    std::string path;
    for (size_t v : cycle) path += (path.empty() ? "" : " -> ") + hosts.hosts[v].name;
    diag.error(out.via_loc[cycle[0]], fmt::format("jump cycle: {} (each jumps through the next)", path));
  }
  if (failed || !cycles.empty()) return out;

  // Jump hosts first, so each chain extends its jump host's finished chain.
  std::vector<size_t> order = topological_order(g);
  std::reverse(order.begin(), order.end());
  out.chains.assign(n, {});
  for (size_t h : order)
    if (out.via[h]) {
      out.chains[h] = out.chains[*out.via[h]];
      out.chains[h].push_back(*out.via[h]);
    }
  out.resolved = true;
  return out;
}

}  // namespace plugbox::inventory
