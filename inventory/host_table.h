// The hosts of an inventory after range expansion: one entry per host, in
// file order, each pointing back at the declaration it came from.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "inventory/diagnostics.h"
#include "inventory/document.h"

namespace plugbox::inventory {

struct ExpandedHost {
  std::string name;     // "web07"
  std::string number;   // "07"; empty unless declared by a range
  size_t decl = 0;      // index into Document::hosts
  std::string address;  // {} replaced; the name when no address is given
};

struct HostTable {
  std::vector<ExpandedHost> hosts;
  std::unordered_map<std::string, size_t> index;  // name -> position in hosts
  std::vector<std::string> names;                 // for "did you mean"

  std::optional<size_t> find(const std::string& name) const {
    auto it = index.find(name);
    return it == index.end() ? std::nullopt : std::optional<size_t>(it->second);
  }
};

// Expands every declaration. Reports bad names and ranges, hosts declared
// twice (plain or through overlapping ranges) and misplaced "{}"; the first
// declaration of a duplicated name is kept so later checks still run.
HostTable expand_hosts(const Document& doc, Diagnostics& diag);

}  // namespace plugbox::inventory
