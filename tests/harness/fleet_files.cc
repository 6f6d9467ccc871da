#include "tests/harness/fleet_files.h"

#include <strings.h>

#include <cstdio>
#include <set>
#include <stdexcept>

namespace plugbox::testing {
namespace {

// sshd_config and ssh_config values are split like a shell line (quotes
// group words); '%' would be expanded as a token in some keywords.
std::string config_quote(const std::string& path) {
  if (path.find_first_of("\"\n%") != std::string::npos)
    throw std::invalid_argument("path unusable in an ssh config (has '\"', '%' or a newline): " + path);
  return "\"" + path + "\"";
}

std::string toml_array(const std::vector<std::string>& items) {
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + toml_string(items[i]);
  return s + "]";
}

}  // namespace

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

namespace {

// Where the value of `line` starts when its keyword is `keyword` (sshd
// matches keywords without case, then a blank or '='); npos otherwise.
std::size_t value_of(const std::string& line, std::string_view keyword) {
  const auto start = line.find_first_not_of(" \t");
  const std::size_t n = keyword.size();
  if (start == std::string::npos || line.size() <= start + n ||
      std::string_view(" \t=").find(line[start + n]) == std::string_view::npos ||
      strncasecmp(line.c_str() + start, keyword.data(), n) != 0)
    return std::string::npos;
  return start + n + 1;
}

}  // namespace

std::string sshd_config(const std::string& address, int port, const SshdPaths& paths,
                        const std::vector<std::string>& extra) {
  std::string s = "# Written by the plugbox sshd test harness.\n";
  // sshd honours only the first SetEnv line, so the caller's SetEnv values
  // join ours on one line, theirs first (the first of a name wins, so they
  // may even override HOME).
  std::string setenv_values;
  bool own_max_startups = false;
  for (const auto& line : extra) {
    if (auto at = value_of(line, "setenv"); at != std::string::npos) {
      setenv_values += line.substr(at) + " ";
      continue;
    }
    own_max_startups = own_max_startups || value_of(line, "maxstartups") != std::string::npos;
    s += line + "\n";
  }
  s += "ListenAddress " + address + ":" + std::to_string(port) + "\n";
  s += "HostKey " + config_quote(paths.host_key) + "\n";
  s += "AuthorizedKeysFile " + config_quote(paths.authorized_keys) + "\n";
  // The sessions' HOME is the host's own directory (the login user's passwd
  // home is shared by every host and not writable).
  s += "SetEnv " + setenv_values + config_quote("HOME=" + paths.home) + "\n";
  s += std::string("AllowUsers ") + kTestUser + "\n";
  s +=
      "PidFile none\n"
      "UsePAM no\n"
      // Keys and homes live in a temp dir that StrictModes would reject.
      "StrictModes no\n"
      "AuthenticationMethods publickey\n"
      "PubkeyAuthentication yes\n"
      "PasswordAuthentication no\n"
      "KbdInteractiveAuthentication no\n"
      "PermitRootLogin no\n"
      "AllowTcpForwarding yes\n"
      "X11Forwarding no\n"
      "PrintMotd no\n"
      "PrintLastLog no\n"
      "UseDNS no\n"
      // VERBOSE logs "Connection from": accepted_connections() counts them.
      "LogLevel VERBOSE\n"
      // Benchmarks open 200 sessions at once and tunnel 50+ through one bastion.
      "MaxSessions 1000\n"
      "LoginGraceTime 30\n"
      "AcceptEnv *\n"
      "Subsystem sftp internal-sftp\n";
  // Unlike the other keywords, MaxStartups keeps the LAST value sshd reads
  // (OpenSSH 9.2's servconf.c assigns it unconditionally): ours only when
  // the caller has none, or the caller's would be overridden.
  if (!own_max_startups) s += "MaxStartups 1000\n";
  return s;
}

std::string known_hosts_line(const std::string& address, int port, const std::string& public_key) {
  const std::string host = port == 22 ? address : "[" + address + "]:" + std::to_string(port);
  return host + " " + public_key;
}

std::string public_key_without_comment(std::string_view pub_line) {
  auto sp1 = pub_line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0)
    throw std::invalid_argument("not an OpenSSH public key line: " + std::string(pub_line));
  auto sp2 = pub_line.find_first_of(" \n", sp1 + 1);
  auto key = pub_line.substr(0, sp2);
  if (key.size() <= sp1 + 1) throw std::invalid_argument("not an OpenSSH public key line: " + std::string(pub_line));
  return std::string(key);
}

std::string ssh_client_config(const std::vector<RunningHost>& hosts, const ClientSide& client) {
  std::string s = "# Written by the plugbox sshd test harness: ssh -F <this file> <host> ...\n";
  for (const auto& h : hosts) {
    s += "Host " + h.name + "\n";
    s += "  HostName " + h.address + "\n";
    s += "  Port " + std::to_string(h.port) + "\n";
    if (!h.behind.empty()) s += "  ProxyJump " + h.behind + "\n";
  }
  s += "Host *\n";
  s += "  User " + client.user + "\n";
  s += "  IdentityFile " + config_quote(client.identity) + "\n";
  s += "  IdentitiesOnly yes\n";
  s += "  UserKnownHostsFile " + config_quote(client.known_hosts) + "\n";
  s +=
      "  GlobalKnownHostsFile /dev/null\n"
      "  StrictHostKeyChecking yes\n"
      "  CheckHostIP no\n"
      "  BatchMode yes\n"
      "  ConnectTimeout 5\n"
      // Every hop, jump hosts included, gives up on a peer silent for 15 s:
      // a connection whose end never reached it (its host's network torn
      // down first) fails the test that holds it instead of hanging it.
      "  ServerAliveInterval 5\n"
      "  ServerAliveCountMax 3\n"
      "  ControlMaster no\n"
      "  ControlPath none\n"
      "  LogLevel ERROR\n";
  return s;
}

std::string inventory_toml(const std::vector<RunningHost>& hosts, const ClientSide& client,
                           const std::vector<std::string>& defaults_extra) {
  std::string s = "# Written by the plugbox sshd test harness.\n[defaults]\n";
  s += "user = " + toml_string(client.user) + "\n";
  s += "identity = " + toml_string(client.identity) + "\n";
  s += "known_hosts = " + toml_string(client.known_hosts) + "\n";
  s += "host_key_check = \"strict\"\n";
  for (const auto& line : defaults_extra) s += line + "\n";

  std::vector<std::string> all, leaves;
  std::vector<std::string> group_order;
  std::set<std::string> seen_groups;
  for (const auto& h : hosts) {
    s += "\n[hosts." + toml_string(h.name) + "]\n";
    s += "address = " + toml_string(h.address) + "\n";
    s += "port = " + std::to_string(h.port) + "\n";
    s += "home = " + toml_string(h.home) + "\n";
    if (!h.behind.empty()) s += "jump = " + toml_string(h.behind) + "\n";
    all.push_back(h.name);
    if (!h.is_jump) leaves.push_back(h.name);
    for (const auto& g : h.groups)
      if (g != "all" && g != "leaves" && seen_groups.insert(g).second) group_order.push_back(g);
  }
  s += "\n[groups.all]\nhosts = " + toml_array(all) + "\n";
  s += "\n[groups.leaves]\nhosts = " + toml_array(leaves) + "\n";
  for (const auto& g : group_order) {
    std::vector<std::string> members;
    for (const auto& h : hosts)
      for (const auto& hg : h.groups)
        if (hg == g) {
          members.push_back(h.name);
          break;
        }
    s += "\n[groups." + toml_string(g) + "]\nhosts = " + toml_array(members) + "\n";
  }
  return s;
}

}  // namespace plugbox::testing
