#include "transport/ssh_host_key.h"

#include <libssh/libssh.h>

#include <fmt/format.h>

#include "transport/shell_quote.h"
#include "transport/ssh_identity.h"

namespace plugbox::transport {

namespace {

// "[address]:port" as OpenSSH and libssh write it for a port other than 22.
std::string known_hosts_name(const Endpoint& e) {
  if (e.port == 22) return e.address;
  return "[" + e.address + "]:" + std::to_string(e.port);
}

// "ssh-ed25519 SHA256:..." of the key the server offered.
std::string offered_key(ssh_session s) {
  ssh_key key = nullptr;
  if (ssh_get_server_publickey(s, &key) != SSH_OK || !key) return "an unreadable key";
  std::string out = ssh_key_type_to_char(ssh_key_type(key));
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) == 0) {
    char* fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
    if (fp) {
      out += " ";
      out += fp;
      ssh_string_free_char(fp);
    }
    ssh_clean_pubkey_hash(&hash);
  }
  ssh_key_free(key);
  return out;
}

}  // namespace

std::string known_hosts_file(const Endpoint& endpoint) {
  if (!endpoint.known_hosts.empty()) return IdentityCache::expand_home(endpoint.known_hosts);
  return IdentityCache::expand_home("~/.ssh/known_hosts");
}

Error verify_host_key(ssh_session s, const Endpoint& e, const std::string& host) {
  if (e.host_key_check == HostKeyCheck::off) return {};
  const std::string file = known_hosts_file(e);
  const std::string name = known_hosts_name(e);
  const std::string remove_fix =
      fmt::format("ssh-keygen -R {} -f {}", shell_quote(name), shell_quote(file));
  switch (ssh_session_is_known_server(s)) {
    case SSH_KNOWN_HOSTS_OK:
      return {};
    case SSH_KNOWN_HOSTS_CHANGED:
      return make_error(Errc::host_key_changed, "host-key", host,
                        fmt::format("{} now offers {}, which does not match {}. If the host was reinstalled, "
                                    "remove the old entry ({}) and connect again; otherwise someone may be "
                                    "intercepting the connection",
                                    name, offered_key(s), file, remove_fix));
    case SSH_KNOWN_HOSTS_OTHER:
      return make_error(Errc::host_key_other_type, "host-key", host,
                        fmt::format("{} offers {}, but {} holds a key of another type for it. If that is "
                                    "expected, remove the old entry ({}) and connect again",
                                    name, offered_key(s), file, remove_fix));
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
      if (e.host_key_check == HostKeyCheck::accept_new) {
        if (ssh_session_update_known_hosts(s) != SSH_OK)
          return make_error(Errc::known_hosts_failed, "host-key", host,
                            fmt::format("could not record {} in {}: {}", name, file, ssh_get_error(s)));
        return {};
      }
      return make_error(Errc::host_key_unknown, "host-key", host,
                        fmt::format("{} ({}) is not in {}. Check the fingerprint and add it "
                                    "(ssh-keyscan -p {} {} >> {}), or set host_key_check = \"accept-new\"",
                                    name, offered_key(s), file, e.port, shell_quote(e.address),
                                    shell_quote(file)));
    case SSH_KNOWN_HOSTS_ERROR:
      break;
  }
  return make_error(Errc::known_hosts_failed, "host-key", host,
                    fmt::format("checking {} against {}: {}", name, file, ssh_get_error(s)));
}

}  // namespace plugbox::transport
