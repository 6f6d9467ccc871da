// Knobs of the SSH transport. The defaults suit a fleet of a few hundred
// hosts driven from one machine.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace plugbox::transport {

struct SshOptions {
  // Deadline of open() when the caller gives none: the whole chain, TCP
  // connect, handshake, host key check and authentication.
  std::chrono::milliseconds connect_timeout{30000};
  // A keepalive request every interval (unless the server spoke recently);
  // the connection is declared dead after count_max intervals more than one
  // without a byte from the server.
  std::chrono::milliseconds keepalive_interval{15000};
  int keepalive_count_max = 3;
  // Handshakes (key exchange + auth) in flight at once, over all hosts. Each
  // costs the remote sshd 20-30 ms of CPU and us about 1 ms.
  int max_concurrent_handshakes = 64;
  // After SIGTERM (deadline, cancel), how long before SIGKILL, and as long
  // again before the channel is abandoned.
  std::chrono::milliseconds kill_grace{2000};
  // Cipher preference: AES-GCM is the cheapest here (AES-NI).
  std::string ciphers = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr";
  // Empty: libssh's default order (curve25519-sha256 first).
  std::string key_exchange;
  int libssh_log_verbosity = 0;  // SSH_LOG_NOLOG; 1..4 for debugging
  // Warnings (host_key_check = off, unusable identity files). Default: stderr.
  std::function<void(const std::string&)> warn;
};

}  // namespace plugbox::transport
