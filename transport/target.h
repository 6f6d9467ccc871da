// Where a command runs, independent of the inventory: the orchestrator turns
// inventory Hosts into Targets. An SSH target is an endpoint plus the chain of
// jump endpoints in front of it (outermost first); a local target is a
// directory on this machine that plays the host.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace plugbox::transport {

enum class HostKeyCheck { strict, accept_new, off };
enum class TargetKind { ssh, local };

const char* to_string(HostKeyCheck check);

struct Endpoint {
  std::string name;         // for messages: "bastion-eu"
  std::string address;      // host name or IP, as the previous hop sees it
  int port = 22;
  std::string user;         // empty: the local user name (libssh's default)
  std::string identity;     // private key file; empty: ~/.ssh/id_{ed25519,ecdsa,rsa}
  std::string known_hosts;  // empty: ~/.ssh/known_hosts
  HostKeyCheck host_key_check = HostKeyCheck::strict;

  // What makes two endpoints the same connection (name excluded).
  std::string connection_key() const;
  // "user@address:port" for messages.
  std::string describe() const;
};

struct Target {
  TargetKind kind = TargetKind::ssh;
  Endpoint endpoint;               // ssh: the host itself; local: only `name` is used
  std::vector<Endpoint> jump_chain;  // ssh: outermost first; empty = direct
  std::string root;                // local: the directory that plays the host

  const std::string& name() const { return endpoint.name; }

  // The first problem found, as one line naming the target and the field
  // ("target 'web01': jump host #1 'bastion': port 0 is not in 1..65535"),
  // or nullopt when the target is usable.
  std::optional<std::string> problem() const;
};

// Convenience constructors for tests and tools.
Target local_target(std::string name, std::string root);
Target ssh_target(Endpoint endpoint, std::vector<Endpoint> jump_chain = {});

}  // namespace plugbox::transport
