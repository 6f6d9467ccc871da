#include "inventory/setting_docs.h"

namespace plugbox::inventory {

const std::vector<base::ConfigKey>& inventory_tables() {
  static const std::vector<base::ConfigKey> keys{
      {"defaults", "table", "", "Host settings for every host, below any group's vars and the host's own."},
      {"hosts", "table of hosts", "",
       "[hosts.NAME]: one host, or a range such as [hosts.\"web[01:24]\"] (web01 to web24, padding kept; {} in "
       "its address and home is the number). A host's table holds its address, jump, settings and free-form vars."},
      {"groups", "table of groups", "", "[groups.NAME]: a group of hosts, with its hosts, children and vars."},
  };
  return keys;
}

const std::vector<base::ConfigKey>& group_keys() {
  static const std::vector<base::ConfigKey> keys{
      {"hosts", "array of strings", "[]", "The group's hosts: names or ranges."},
      {"children", "array of strings", "[]", "Groups inside this one: their hosts are its hosts, and their vars beat its vars."},
      {"vars", "table", "{}", "Host settings and free-form vars for the group's hosts, e.g. vars = { home = \"/srv/shop\" }."},
  };
  return keys;
}

const std::vector<base::ConfigKey>& setting_docs() {
  static const std::vector<base::ConfigKey> keys{
      {"user", "string", "the service name", "The SSH user, which is the service user. No '@' or ':'."},
      {"port", "integer", "22", "The SSH port (1 to 65535)."},
      {"identity", "string (path)", "~/.ssh/id_ed25519, id_ecdsa, id_rsa",
       "The SSH private key; ssh-agent is tried too. '~' and relative paths are expanded against $HOME and the "
       "inventory's directory."},
      {"home", "string (path)", "/home/SERVICE",
       "The service home on the host, which holds deploy/ and the live link. Required with transport = \"local\"."},
      {"server", "string", "plugbox's own, installed in the home",
       "Unset: plugbox runs its own plugbox-server at HOME/.plugbox/servers/VERSION-COMMIT/plugbox-server and "
       "installs it there when it is missing or of another version. Set: a pinned server, the command on the host "
       "split on spaces, run as written and never installed, replaced or removed (fleet bootstrap only asks its "
       "version)."},
      {"server_install", "boolean", "true",
       "false: plugbox does not install its own server during deploys, rollbacks, gc or status; a missing one "
       "fails the host with a hint to run `plugbox fleet bootstrap`, which installs it."},
      {"known_hosts", "string (path)", "~/.ssh/known_hosts", "The known_hosts file host keys are checked against."},
      {"host_key_check", "\"strict\", \"accept-new\" or \"off\"", "\"strict\"",
       "How an unknown host key is treated: refused, recorded on first use, or not checked at all (\"off\" is "
       "for tests and is warned about)."},
      {"transport", "\"ssh\" or \"local\"", "\"ssh\"",
       "\"local\": the host is its home directory on this machine and its commands run here (the quickstart and "
       "tests)."},
      {"ssh_config", "true, false or string (path)", "false",
       "Read the host's address (HostName), user, port, identity (the first IdentityFile), known_hosts "
       "(UserKnownHostsFile) and jump chain (ProxyJump) from an OpenSSH client config where the inventory does not "
       "set them: true reads ~/.ssh/config, a path reads that file. The host's name is the ssh alias looked up; Host "
       "patterns, Match host/originalhost/user/localuser/all and Include are followed; ProxyCommand and Match "
       "exec/canonical/final are refused. The inventory always wins."},
  };
  return keys;
}

const std::vector<base::ConfigKey>& host_only_key_docs() {
  static const std::vector<base::ConfigKey> keys{
      {"address", "string", "the host's name", "The name or IP address SSH connects to."},
      {"jump", "string or array of strings", "",
       "The jump host this host is reached through, or the whole chain of them, outermost first. A jump host is "
       "itself a host of the inventory."},
  };
  return keys;
}

}  // namespace plugbox::inventory
