#include "inventory/builder.h"

#include <fmt/format.h>

#include <algorithm>

#include "inventory/group_tree.h"
#include "inventory/host_table.h"
#include "inventory/jump_chains.h"
#include "inventory/precedence.h"
#include "inventory/range.h"
#include "inventory/settings.h"
#include "inventory/ssh_config_hosts.h"

namespace plugbox::inventory {
namespace {

// "{}" is numbered only in a range host's own address and home: in [defaults]
// or a group it would mean a different thing for every host, silently.
void check_shared_home(const Layer& layer, const std::string& where, Diagnostics& diag) {
  if (auto it = layer.find("home"); it != layer.end() && it->second.text.find("{}") != std::string::npos)
    diag.error(it->second.loc, fmt::format("'{{}}' in the home of {} is not replaced: only a range host's own address "
                                           "and home are numbered",
                                           where));
}

}  // namespace

Built build_inventory(const Document& doc, const ReadContext& ctx, Diagnostics& diag) {
  Built out;
  const HostTable table = expand_hosts(doc, diag);
  const GroupTree tree = build_group_tree(doc.groups, table, diag);
  const JumpLinks links = resolve_jumps(doc.hosts, table, diag);
  check_shared_home(doc.defaults, "[defaults]", diag);
  for (const auto& g : doc.groups) check_shared_home(g.vars, fmt::format("group '{}'", g.name.text), diag);

  Precedence precedence(doc.defaults, doc.groups, tree);
  const size_t n = table.hosts.size();
  out.hosts.resize(n);
  std::vector<Effective> effective(n);
  for (size_t i = 0; i < n; ++i) {
    const ExpandedHost& e = table.hosts[i];
    const HostDecl& decl = doc.hosts[e.decl];
    Host& h = out.hosts[i];
    h.name = e.name;
    h.address = e.address;
    h.pos = diag.pos(decl.name.loc);
    effective[i] = precedence.resolve(i, e.name, decl.layer);
    const Effective& eff = effective[i];
    apply_layer(eff, h);
    if (decl.address) h.origin["address"] = diag.pos(decl.address->loc);
    for (const auto& [key, value] : eff)
      if (is_setting(key)) h.origin[std::string(key)] = diag.pos(value->loc);
    if (links.via[i]) h.origin["jump"] = diag.pos(links.via_loc[i]);

    const auto home = eff.find("home");
    if (home != eff.end() && !e.number.empty() && decl.layer.count("home")) h.home = substitute_number(h.home, e.number);
    if (h.transport == TransportKind::local) {
      if (h.home.empty()) {
        diag.error(decl.name.loc, fmt::format("host '{}' has transport = \"local\" but no home: set home = \"DIR\", "
                                              "the directory that stands for the host on this machine",
                                              decl.name.text));
      } else {
        std::string why;
        if (auto p = expand_path(h.home, ctx, &why)) h.home = *p;
        else diag.error(home->second->loc, fmt::format("home '{}': {}", home->second->text, why));
      }
      if (!decl.jump.empty())
        diag.error(decl.jump_loc, fmt::format("host '{}' has transport = \"local\": it cannot have a jump",
                                              decl.name.text));
    } else if (!h.home.empty() && h.home[0] != '/') {
      diag.error(home->second->loc, fmt::format("home '{}' must be an absolute path: it is a directory on an SSH host",
                                                home->second->text));
    }
    for (size_t g : tree.host_groups[i]) h.groups.push_back(doc.groups[g].name.text);
    std::sort(h.groups.begin(), h.groups.end());
  }
  precedence.report(diag);

  // A local host is a directory here: nothing can be tunnelled through it.
  for (size_t i = 0; i < n; ++i)
    if (links.via[i] && out.hosts[*links.via[i]].transport == TransportKind::local)
      diag.error(links.via_loc[i], fmt::format("'{}' has transport = \"local\": no host can jump through it",
                                               out.hosts[*links.via[i]].name));
  // Jump chains last: ssh configs may add jump hosts and chains the inventory's jumps extend.
  SshConfigHosts(doc, ctx, diag, out.hosts, effective, links).apply();

  for (size_t gi = 0; gi < doc.groups.size(); ++gi) {
    const GroupDecl& d = doc.groups[gi];
    Group g;
    g.name = d.name.text;
    g.pos = diag.pos(d.name.loc);
    for (size_t h : tree.groups[gi].direct_hosts) g.hosts.push_back(out.hosts[h].name);
    for (size_t c : tree.groups[gi].children) g.children.push_back(doc.groups[c].name.text);
    for (size_t h : tree.members[gi]) g.all_hosts.push_back(out.hosts[h].name);
    for (const auto& [k, v] : d.vars) g.vars.emplace(k, v.text);
    out.groups.emplace(g.name, std::move(g));
  }
  return out;
}

}  // namespace plugbox::inventory
