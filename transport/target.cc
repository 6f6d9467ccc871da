#include "transport/target.h"

#include <fmt/format.h>

namespace plugbox::transport {

const char* to_string(HostKeyCheck check) {
  switch (check) {
    case HostKeyCheck::strict: return "strict";
    case HostKeyCheck::accept_new: return "accept-new";
    case HostKeyCheck::off: return "off";
  }
  return "?";
}

std::string Endpoint::connection_key() const {
  // Fields separated by a byte no field can hold unnoticed in practice; the
  // key only has to be injective over real configurations.
  return fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", user, address, port, identity, known_hosts,
                     to_string(host_key_check));
}

std::string Endpoint::describe() const {
  std::string out;
  if (!user.empty()) out += user + "@";
  if (address.find(':') != std::string::npos)
    out += "[" + address + "]";
  else
    out += address;
  return out + ":" + std::to_string(port);
}

namespace {

std::optional<std::string> endpoint_problem(const Endpoint& e) {
  if (e.name.empty()) return "has no name";
  if (e.address.empty()) return "has no address";
  if (e.address.find_first_of(" \t\n\r") != std::string::npos || e.address.find('\0') != std::string::npos)
    return fmt::format("address '{}' contains whitespace", e.address);
  if (e.port < 1 || e.port > 65535) return fmt::format("port {} is not in 1..65535", e.port);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Target::problem() const {
  std::string who = fmt::format("target '{}'", endpoint.name);
  if (endpoint.name.empty()) return "a target has no name";
  if (kind == TargetKind::local) {
    if (root.empty()) return who + ": a local target needs a root directory (the host's `home`)";
    if (root[0] != '/') return who + fmt::format(": root directory '{}' must be an absolute path", root);
    return std::nullopt;
  }
  if (auto p = endpoint_problem(endpoint)) return who + ": " + *p;
  for (size_t i = 0; i < jump_chain.size(); ++i) {
    if (auto p = endpoint_problem(jump_chain[i]))
      return who + fmt::format(": jump host #{} '{}' {}", i + 1, jump_chain[i].name, *p);
    if (jump_chain[i].name == endpoint.name) return who + ": jumps through itself";
  }
  return std::nullopt;
}

Target local_target(std::string name, std::string root) {
  Target t;
  t.kind = TargetKind::local;
  t.endpoint.name = std::move(name);
  t.root = std::move(root);
  return t;
}

Target ssh_target(Endpoint endpoint, std::vector<Endpoint> jump_chain) {
  Target t;
  t.kind = TargetKind::ssh;
  t.endpoint = std::move(endpoint);
  t.jump_chain = std::move(jump_chain);
  return t;
}

}  // namespace plugbox::transport
