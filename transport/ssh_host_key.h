// Checks the server's host key against known_hosts, as the target's
// host_key_check says: strict (default) refuses unknown and changed keys,
// accept-new records unknown keys and refuses changed ones, off checks
// nothing (the transport warns loudly). Messages name the host, its address,
// the file and the fix.
#pragma once

#include <string>

#include "transport/error.h"
#include "transport/target.h"

struct ssh_session_struct;

namespace plugbox::transport {

// The known_hosts file an endpoint uses ("" means ~/.ssh/known_hosts).
std::string known_hosts_file(const Endpoint& endpoint);

// After the key exchange of `session` (whose SSH_OPTIONS_KNOWNHOSTS is
// known_hosts_file(endpoint)). `host` names the target in the error.
Error verify_host_key(ssh_session_struct* session, const Endpoint& endpoint, const std::string& host);

}  // namespace plugbox::transport
