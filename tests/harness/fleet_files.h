// The text files a fleet is made of and described by: each host's
// sshd_config, known_hosts, an OpenSSH client config and an inventory.toml
// (docs/DESIGN.md §4). Pure renderers, tested as strings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tests/harness/fleet_options.h"

namespace plugbox::testing {

// Paths sshd_config refers to. None may contain '"' or a newline.
struct SshdPaths {
  std::string host_key;         // private key file
  std::string authorized_keys;  // read by sshd as the login user: must be reachable by it
  std::string home;             // becomes $HOME of every session
};

// The sshd_config of one host. `extra` lines come first so they win (sshd
// keeps the first value it reads for a keyword; for MaxStartups, which sshd
// takes the last of, the harness leaves its own out when `extra` has one).
std::string sshd_config(const std::string& address, int port, const SshdPaths& paths,
                        const std::vector<std::string>& extra);

// "address key" for port 22, else "[address]:port key": what OpenSSH and
// libssh look up.
std::string known_hosts_line(const std::string& address, int port, const std::string& public_key);

// The first two fields of an OpenSSH public key line ("ssh-ed25519 AAAA..."),
// without the comment. Throws std::invalid_argument on anything else.
std::string public_key_without_comment(std::string_view pub_line);

// What a client needs besides the hosts.
struct ClientSide {
  std::string user;
  std::string identity;     // private key path
  std::string known_hosts;  // path
};

// An OpenSSH client config (`ssh -F`): one Host block per host with HostName,
// Port and ProxyJump (its immediate jump host; ssh passes -F down the chain),
// then strict, batch-mode defaults for everything.
std::string ssh_client_config(const std::vector<RunningHost>& hosts, const ClientSide& client);

// An inventory.toml describing the fleet: [defaults] with user, identity,
// known_hosts and host_key_check = "strict" (plus `defaults_extra` lines), a
// [hosts."name"] table per host with address, port, home and jump, and groups:
// "all" (every host), "leaves" (hosts no one jumps through), then each
// HostSpec group.
std::string inventory_toml(const std::vector<RunningHost>& hosts, const ClientSide& client,
                           const std::vector<std::string>& defaults_extra);

// A TOML basic string, quotes included.
std::string toml_string(std::string_view s);

}  // namespace plugbox::testing
