// The inventory as written: what the TOML reader found, with positions, before
// ranges are expanded, groups and jumps resolved and precedence applied.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "inventory/diagnostics.h"

namespace plugbox::inventory {

// A name as written (host, range, group, jump target).
struct Ref {
  std::string text;
  Loc loc;       // the key or string, quotes included
  Loc text_loc;  // its first character, inside the quotes: range problems point into it
};

// A setting or free-form var, already checked and normalized to text (port
// "22", booleans "true"/"false", identity and known_hosts with ~ expanded).
struct Value {
  std::string text;
  Loc loc;
};

// Settings and free-form vars by key: one per [defaults], group vars, host.
using Layer = std::map<std::string, Value, std::less<>>;

struct HostDecl {
  Ref name;  // may be a range: "web[01:24]"
  std::optional<Value> address;
  std::vector<Ref> jump;  // outermost first; empty: no jump key
  bool jump_is_list = false;
  Loc jump_loc;
  Layer layer;
};

struct GroupDecl {
  Ref name;
  std::vector<Ref> hosts;  // may hold ranges
  std::vector<Ref> children;
  Layer vars;
  bool lists_members = false;  // has a hosts or children key, even an empty or a bad one
};

struct Document {
  bool parsed = false;  // false after a TOML syntax error: nothing else was read
  Layer defaults;
  std::vector<HostDecl> hosts;    // in file order
  std::vector<GroupDecl> groups;  // in file order
};

// Where relative paths and "~" point.
struct ReadContext {
  std::filesystem::path base_dir;  // the inventory file's directory
  std::string home_dir;            // $HOME
  std::string local_user;          // for ssh configs: %u, Match localuser
};

}  // namespace plugbox::inventory
