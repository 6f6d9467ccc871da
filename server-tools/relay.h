// `plugbox-server relay --listen ADDR:PORT`: fan-out's relay inside a site
// (docs/DESIGN.md §6 "Fan-out inside a site"; wire: upload/relay_format.h).
// The client starts it on one host of the site over that host's SSH session,
// writes it sealed contents and one-time tokens on stdin, and the site's
// other hosts fetch those contents over TCP. It holds ciphertext only (the
// key never reaches it), in memory: the relay lives as long as one deploy's
// staging and ends when its stdin does, so it leaves nothing behind.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "base/unique_fd.h"

namespace plugbox::server {

// A listening socket on ADDR:PORT (numeric IPv4, or [IPv6]); port 0 picks a
// free one. Throws a refusal (one line) when it cannot be had.
base::UniqueFd bind_relay(const std::string& listen, std::string* bound);

// Connections whose token has not been matched yet. A host of ours is
// pending only until its token comes (stdin carries tokens ahead of any
// content), so a site of N hosts has about 2*sqrt(N) pending at most; more
// is a stranger on the port, and the oldest is dropped (counted refused) so
// it cannot hold the relay's descriptors.
inline constexpr std::size_t kRelayMaxPending = 256;

struct RelayStats {
  std::uint64_t connections = 0, fetches = 0, bytes_served = 0, bytes_stored = 0, refused = 0;
  std::uint64_t upstream_fetches = 0;  // contents fetched from the upstream relay (--upstream)
  std::string upstream_failure;        // why the upstream stopped serving, if it did
};

// Serves until `in_fd` ends (or the stream on it is bad: then false and
// *error). Prints nothing itself. `upstream` (ADDR:PORT, or ""): fetch
// contents from that relay, with the 'U' token stdin brings, instead of
// getting them on stdin. When the upstream fails, the hosts waiting for a
// content it did not bring are cut off: they fetch it directly.
bool serve_relay(int listen_fd, int in_fd, RelayStats* stats, std::string* error, const std::string& upstream = "");

}  // namespace plugbox::server
