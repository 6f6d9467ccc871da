// `plugbox inventory check | list | graph`: the inventory on its own, before
// any fleet command uses it. Every problem is printed as FILE:LINE:COL:
// message and the exit status is 2; nothing else runs.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "inventory/host_json.h"
#include "inventory/inventory.h"
#include "orchestrator/commands.h"

namespace plugbox::cli {
namespace {

namespace inv = plugbox::inventory;

inv::Inventory load(const GlobalOptions& opts) {
  try {
    inv::Inventory inventory = inv::Inventory::load(inv::resolve_inventory_path(opts.inventory));
    for (const auto& w : inventory.warnings()) std::cerr << w.str() << "\n";
    return inventory;
  } catch (const inv::InventoryError& e) {
    bad_input(e.diagnostics());
  }
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

std::string joined(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : std::string(sep)) + i;
  return out.empty() ? "-" : out;
}

void print_table(const std::vector<const inv::Host*>& hosts) {
  std::vector<std::array<std::string, 6>> rows{{"NAME", "ADDRESS", "PORT", "USER", "JUMP", "GROUPS"}};
  for (const auto* h : hosts)
    rows.push_back({h->name, h->transport == inv::TransportKind::local ? "local:" + h->home : h->address,
                    std::to_string(h->port), or_dash(h->user), joined(h->jump_chain, "->"), joined(h->groups, ",")});
  std::array<size_t, 6> width{};
  for (const auto& r : rows)
    for (size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  std::string out;
  for (const auto& r : rows) {
    for (size_t c = 0; c + 1 < r.size(); ++c) fmt::format_to(std::back_inserter(out), "{:<{}}  ", r[c], width[c]);
    out += r.back() + "\n";
  }
  std::cout << out;
}

// Each host's values with where they came from: the inventory's file:line:col,
// an ssh config's file:line (ssh_config), or plugbox's default.
void print_origins(const std::vector<const inv::Host*>& hosts) {
  std::string out;
  for (const auto* h : hosts) {
    out += h->name + (h->jump_only ? "  (jump host from an ssh config's ProxyJump)" : "") + "\n";
    const std::vector<std::pair<std::string, std::string>> values{
        {"address", h->address},
        {"port", std::to_string(h->port)},
        {"user", or_dash(h->user)},
        {"identity", or_dash(h->identity)},
        {"known_hosts", or_dash(h->known_hosts)},
        {"jump", joined(h->jump_chain, "->")},
        {"home", or_dash(h->home)},
        {"server", or_dash(h->server)},
        {"host_key_check", std::string(inv::to_string(h->host_key_check))},
        {"transport", std::string(inv::to_string(h->transport))},
    };
    size_t width = 0;
    for (const auto& [k, v] : values) width = std::max(width, v.size());
    for (const auto& [k, v] : values) {
      auto it = h->origin.find(k);
      fmt::format_to(std::back_inserter(out), "  {:<14}  {:<{}}  {}\n", k, v, width,
                     it == h->origin.end() ? "default" : inv::to_string(it->second));
    }
  }
  std::cout << out;
}

struct ListOptions {
  std::vector<std::string> groups;
  std::vector<std::string> hosts;
  bool json = false;
  bool origin = false;
};

}  // namespace

void add_inventory_commands(CLI::App& app, GlobalOptions& opts) {
  auto* inventory = app.add_subcommand("inventory", "Check, list and graph the inventory (-i FILE)");
  inventory->require_subcommand(1);
  inventory->fallthrough();  // `plugbox inventory check -i FILE` works too

  auto* check = inventory->add_subcommand(
      "check", "Load and validate the inventory: print every problem as FILE:LINE:COL (exit 2), or a summary");
  check->fallthrough();
  check->callback([&opts] {
    const inv::Inventory i = load(opts);
    const size_t warnings = i.warnings().size();
    std::cout << fmt::format("{}: ok: {} hosts ({} bastions), {} groups{}\n", i.file(), i.hosts().size(),
                             i.bastions().size(), i.groups().size(),
                             warnings ? fmt::format(", {} warning{}", warnings, warnings > 1 ? "s" : "") : "");
  });

  auto list_opts = std::make_shared<ListOptions>();
  auto* list = inventory->add_subcommand("list", "List the hosts with their address, port, user, jump chain, groups");
  list->fallthrough();
  list->add_option("-g,--group", list_opts->groups, "Only the hosts of this group (children included); repeatable");
  list->add_option("--host", list_opts->hosts, "Only these hosts: names, ranges (web[01:03]) or globs ('web0*')")
      ->delimiter(',');
  list->add_flag("--json", list_opts->json,
                 "JSON array: name, address, port, user, jump_chain, groups, home, server, identity, known_hosts, "
                 "host_key_check, transport, vars, origin");
  list->add_flag("--origin", list_opts->origin,
                 "Each host's values and where each came from: inventory FILE:LINE:COL, ssh config FILE:LINE "
                 "(ssh_config), or default");
  list->callback([&opts, list_opts] {
    const inv::Inventory i = load(opts);
    std::vector<const inv::Host*> hosts;
    if (list_opts->groups.empty() && list_opts->hosts.empty()) {
      for (const auto& h : i.hosts()) hosts.push_back(&h);
    } else {
      try {
        hosts = i.select(inv::Selection{list_opts->groups, list_opts->hosts});
      } catch (const inv::InventoryError& e) {
        bad_input(e.diagnostics());
      }
    }
    if (list_opts->json)
      std::cout << inv::hosts_to_json(hosts).dump(2) << "\n";
    else if (list_opts->origin)
      print_origins(hosts);
    else
      print_table(hosts);
  });

  auto* graph = inventory->add_subcommand(
      "graph", "Print the inventory as a Graphviz DOT digraph: hosts, groups, jump edges (pipe into `dot -Tsvg`)");
  graph->fallthrough();
  graph->callback([&opts] { std::cout << load(opts).to_dot(); });
}

}  // namespace plugbox::cli
