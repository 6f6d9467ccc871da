#include "orchestrator/inputs.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "orchestrator/fd_limit.h"
#include "orchestrator/fleet_transport.h"

namespace plugbox::cli {

namespace inv = plugbox::inventory;
namespace orch = plugbox::orchestrator;

void add_select(CLI::App* c, SelectOptions& s) {
  c->add_option("-g,--group", s.groups, "Hosts of group G (its children included); repeatable");
  c->add_option("--host", s.hosts, "Hosts by name or glob ('web0*'), comma-separated")->delimiter(',');
  c->add_option("--parallel", s.parallel, "Hosts worked on at once (default 50)")->check(CLI::Range(1, 10000));
}

orch::ServiceConfig load_service(const GlobalOptions& g) {
  try {
    return orch::ServiceConfig::load(orch::resolve_service_path(g.service_file));
  } catch (const inv::InventoryError& e) {
    bad_input(e.diagnostics());
  }
}

std::vector<orch::PlannedHost> Loaded::plan_hosts(const std::string& owner) const {
  std::vector<orch::PlannedHost> out;
  for (const auto* h : hosts) {
    out.push_back(orch::plan_host(inventory, *h, service_name(), owner));
    if (auto p = out.back().target.problem()) bad_input(*p);
  }
  return out;
}

Loaded load(const GlobalOptions& g, SelectOptions& sel, bool need_service, const std::string& default_group,
            bool needs_home) {
  Loaded l;
  const char* session = std::getenv("PLUGBOX_SESSION");
  if (auto on = orch::parse_session_setting(session)) l.host_sessions = *on;
  else bad_input("PLUGBOX_SESSION='" + std::string(session) + "' is not a setting: use on or off (unset means on)");
  try {
    l.inventory = inv::Inventory::load(inv::resolve_inventory_path(g.inventory));
    for (const auto& w : l.inventory.warnings()) std::cerr << w.str() << "\n";
  } catch (const inv::InventoryError& e) {
    bad_input(e.diagnostics());
  }
  if (need_service || g.service_file || std::filesystem::exists(orch::resolve_service_path(g.service_file)))
    l.service = load_service(g);
  bool group_from_service = false;
  if (sel.groups.empty() && sel.hosts.empty()) {
    if (default_group.empty())
      bad_input("choose the hosts: --group G or --host NAME[,NAME...] (see `plugbox inventory list`)");
    sel.groups.push_back(default_group);
    group_from_service = true;
  }
  try {
    l.hosts = l.inventory.select(inv::Selection{sel.groups, sel.hosts});
  } catch (const inv::InventoryError& e) {
    if (!group_from_service || !l.service) bad_input(e.diagnostics());
    // The group was named in the service file: point there, where the fix is.
    std::vector<inv::Diagnostic> diags;
    for (const auto& d : e.diagnostics())
      diags.push_back(inv::Diagnostic{l.service->deploy.group_pos,
                                      "deploy.group: " + d.message + " (groups are defined in " + d.pos.file + ")",
                                      d.warning});
    bad_input(diags);
  }
  // The service name stands in for a missing user (and home). A command
  // that only runs commands (exec) needs no home on an SSH host.
  if (!l.service)
    for (const auto* h : l.hosts) {
      bool local = h->transport == inv::TransportKind::local;
      if (!needs_home && !local && !h->user.empty()) continue;
      if (!needs_home && local && !h->home.empty()) continue;
      if (h->home.empty() || (h->user.empty() && !local))
        bad_input("host '" + h->name + "' has no home" + std::string(h->user.empty() ? " or user" : "") +
                  " in the inventory and there is no plugbox.toml to take the service name from: pass -f FILE or set them");
    }
  // Every selected host's connection stays open for the whole run.
  if (std::string err = orchestrator::ensure_fd_limit(l.hosts.size()); !err.empty()) bad_input(err);
  return l;
}

}  // namespace plugbox::cli
