// `ssh_config = true | "PATH"` (docs/DESIGN.md §4): fills what the inventory
// leaves unset (address, user, port, identity, known_hosts, jump chain) from an
// OpenSSH client config, looked up under the host's inventory name, and adds
// the ProxyJump hosts the inventory does not declare as jump-only hosts.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "inventory/diagnostics.h"
#include "inventory/document.h"
#include "inventory/inventory.h"
#include "inventory/jump_chains.h"
#include "inventory/precedence.h"
#include "inventory/ssh_config.h"

namespace plugbox::inventory {

class SshConfigHosts {
 public:
  // `hosts` are the built inventory hosts (jump chains not filled in yet);
  // `effective` their settings after precedence, `links` the inventory's jumps.
  SshConfigHosts(const Document& doc, const ReadContext& ctx, Diagnostics& diag, std::vector<Host>& hosts,
                 const std::vector<Effective>& effective, const JumpLinks& links);

  // Applies the configs, then sets every host's jump_chain: the inventory's
  // way in where it has one, else the config's ProxyJump. Jump-only hosts are
  // appended to `hosts`.
  void apply();

 private:
  struct Hops {
    std::vector<SshJumpHop> hops;
    SshConfigPos pos;                  // the ProxyJump line
    std::shared_ptr<const SshConfig> config;
  };
  std::shared_ptr<const SshConfig> config_for(const Value& setting);
  void fill(size_t i, const Value& setting);
  std::optional<size_t> hop_host(const SshJumpHop& hop, const Hops& from);
  std::optional<std::vector<size_t>> through(const Hops& hops, size_t owner);
  std::optional<std::vector<size_t>> chain(size_t i);  // nullopt: an error was reported

  const Document& doc_;
  const ReadContext& ctx_;
  Diagnostics& diag_;
  std::vector<Host>& hosts_;
  const std::vector<Effective>& effective_;
  const JumpLinks& links_;
  const size_t declared_;  // hosts_[declared_..] are jump-only
  std::map<std::string, std::shared_ptr<const SshConfig>> configs_;  // by path; null: could not be read
  std::map<std::string, size_t> index_;                              // host name -> position
  std::vector<std::optional<Hops>> hops_;       // per host: the config's ProxyJump, when it is the way in
  std::vector<std::optional<std::vector<size_t>>> placed_;  // jump-only hosts placed inside a list: their way in
  std::vector<std::optional<std::vector<size_t>>> chains_;
  std::vector<char> visiting_;
  std::vector<char> failed_;
};

}  // namespace plugbox::inventory
