#include "transport/ssh_identity.h"

#include <libssh/libssh.h>
#include <sys/stat.h>

#include <cstdlib>

namespace plugbox::transport {

IdentityCache::IdentityCache(std::function<void(const std::string&)> warn) : warn_(std::move(warn)) {}

std::string IdentityCache::expand_home(const std::string& path) {
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home && *home) return std::string(home) + path.substr(1);
  }
  return path;
}

SshKey IdentityCache::load(const std::string& path, bool warn_if_missing) {
  if (auto it = loaded_.find(path); it != loaded_.end()) return it->second;
  if (failed_.count(path)) return nullptr;
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) {
    failed_.insert(path);
    if (warn_if_missing && warn_)
      warn_("identity file " + path + " does not exist: fix `identity` in the inventory (ssh-agent is still tried)");
    return nullptr;
  }
  ssh_key raw = nullptr;
  // No passphrase callback: a protected key belongs in ssh-agent.
  if (ssh_pki_import_privkey_file(path.c_str(), nullptr, nullptr, nullptr, &raw) != SSH_OK || !raw) {
    failed_.insert(path);
    if (warn_)
      warn_("identity file " + path +
            " could not be loaded (passphrase-protected or not a private key): add it to ssh-agent instead");
    return nullptr;
  }
  SshKey key(raw, [](ssh_key k) { ssh_key_free(k); });
  loaded_.emplace(path, key);
  return key;
}

std::vector<IdentityCache::Identity> IdentityCache::keys_for(const std::string& identity) {
  std::vector<Identity> out;
  if (!identity.empty()) {
    std::string path = expand_home(identity);
    if (auto key = load(path, true)) out.push_back({path, key});
    return out;
  }
  for (const char* name : {"~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa"}) {
    std::string path = expand_home(name);
    if (auto key = load(path, false)) out.push_back({path, key});
  }
  return out;
}

}  // namespace plugbox::transport
