// The fleet inventory (docs/DESIGN.md §4): hosts, groups and jump chains, loaded from
// inventory.toml and validated on construction. Every fleet command gets its
// hosts from here; nothing downstream re-reads the TOML.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace plugbox::inventory {

struct SourcePos {
  std::string file;
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based; 0 = unknown
};

// "FILE:LINE:COL", "FILE:LINE" (column 0: an ssh config's line), "FILE".
std::string to_string(const SourcePos& pos);

// One problem found while loading. str() is "FILE:LINE:COL: message"
// ("FILE:LINE:COL: warning: message" for a warning; without a position, or
// without a file, those parts are left out).
struct Diagnostic {
  SourcePos pos;
  std::string message;
  bool warning = false;
  std::string str() const;
};

// Thrown by load()/select(): carries every error found (not only the first).
class InventoryError : public std::runtime_error {
 public:
  explicit InventoryError(std::vector<Diagnostic> diags);
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }

 private:
  std::vector<Diagnostic> diags_;
};

enum class HostKeyCheck { strict, accept_new, off };
enum class TransportKind { ssh, local };

// The spelling used in inventory.toml: "strict", "accept-new", "off"; "ssh", "local".
std::string_view to_string(HostKeyCheck v);
std::string_view to_string(TransportKind v);

struct Host {
  std::string name;                 // after range expansion: "web01"
  std::string address;              // "{}" already replaced
  int port = 22;
  std::string user;                 // may be empty: the service name is used
  std::string identity;             // "~" already expanded; may be empty
  std::string home;                 // empty: /home/<service> (the orchestrator decides)
  // Empty: plugbox's own copy in the home, which it installs (docs/DESIGN.md
  // §3 "Server install"). Set: pinned, the command on the host as written.
  std::string server;
  bool server_install = true;       // false: only `fleet bootstrap` installs it
  std::string known_hosts;          // empty: ~/.ssh/known_hosts
  HostKeyCheck host_key_check = HostKeyCheck::strict;
  TransportKind transport = TransportKind::ssh;
  std::vector<std::string> jump_chain;   // host names, outermost first; empty if direct
  std::vector<std::string> groups;       // every group the host is in, children included (sorted by name)
  std::map<std::string, std::string> vars;  // free-form vars after precedence
  SourcePos pos;                    // where the host (or its range) was declared
  // Where each of address, port, user, identity, known_hosts and jump came
  // from: the inventory (file:line:col) or an ssh config (file:line, column 0).
  // A value left at plugbox's default has no entry.
  std::map<std::string, SourcePos> origin;
  // Declared only by an ssh config's ProxyJump: a hop on the way to inventory
  // hosts, in no group, never matched by a --host glob.
  bool jump_only = false;
};

struct Group {
  std::string name;
  std::vector<std::string> hosts;     // direct members, expanded
  std::vector<std::string> children;  // child group names
  SourcePos pos;
  std::vector<std::string> all_hosts;        // members, children's included, in inventory order
  std::map<std::string, std::string> vars;   // the group's own vars, as written
};

// What a fleet command targets: --group G and/or --host a,b,'web0*'.
struct Selection {
  std::vector<std::string> groups;
  std::vector<std::string> host_patterns;  // exact names or fnmatch globs
};

// A node of the session tree the transport opens: each bastion once, with the
// hosts tunnelled through it as children.
struct SessionNode {
  std::string host;
  std::vector<SessionNode> children;
  bool target = false;  // selected itself (false: only a hop on the way to a target)
};

class Inventory {
 public:
  // Throws InventoryError with every problem found. Warnings are kept in warnings().
  static Inventory load(const std::filesystem::path& file);
  static Inventory parse(std::string_view toml_text, const std::string& file_name);

  const std::vector<Host>& hosts() const { return hosts_; }        // in declaration order
  const std::map<std::string, Group>& groups() const { return groups_; }
  const Host* find(std::string_view name) const;
  const std::vector<Diagnostic>& warnings() const { return warnings_; }
  const std::string& file() const { return file_; }

  // Hosts matched by the selection, in inventory order, without duplicates.
  // Throws InventoryError for an unknown group, a pattern matching nothing, or
  // an empty result.
  std::vector<const Host*> select(const Selection& sel) const;

  // The forest of sessions needed to reach `targets` (roots are directly
  // reachable hosts); each host appears once.
  std::vector<SessionNode> session_tree(const std::vector<const Host*>& targets) const;

  // DOT text: hosts, groups, jump edges.
  std::string to_dot() const;

  // Hosts that some other host jumps through, in inventory order.
  std::vector<const Host*> bastions() const;

 private:
  std::string file_;
  std::vector<Host> hosts_;
  std::map<std::string, Group> groups_;
  std::vector<Diagnostic> warnings_;
  std::map<std::string, size_t, std::less<>> index_;  // host name -> position in hosts_
};

// -i, else $PLUGBOX_INVENTORY, else ./inventory.toml. Throws InventoryError
// naming every path tried when none exists.
std::filesystem::path resolve_inventory_path(const std::optional<std::string>& cli_value);

// "--host a,b,web0*" -> {"a", "b", "web0*"}: splits on commas, drops empty items.
std::vector<std::string> split_host_list(std::string_view csv);

}  // namespace plugbox::inventory
