// Private keys offered for public-key authentication, each file loaded once
// per transport and shared by every session (loading costs more than a
// handshake). ssh-agent is tried in addition, by the connection itself.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

struct ssh_key_struct;

namespace plugbox::transport {

using SshKey = std::shared_ptr<ssh_key_struct>;

class IdentityCache {
 public:
  explicit IdentityCache(std::function<void(const std::string&)> warn);

  struct Identity {
    std::string path;
    SshKey key;
  };
  // `identity` is a key file ("~/" is expanded); empty means the usual
  // defaults (~/.ssh/id_ed25519, id_ecdsa, id_rsa) that exist. A configured
  // file that cannot be loaded (missing, passphrase-protected) is warned
  // about once and skipped.
  std::vector<Identity> keys_for(const std::string& identity);

  static std::string expand_home(const std::string& path);

 private:
  SshKey load(const std::string& path, bool warn_if_missing);

  std::function<void(const std::string&)> warn_;
  std::map<std::string, SshKey> loaded_;
  std::set<std::string> failed_;
};

}  // namespace plugbox::transport
