// The fan-out relay's two protocols (upload/PROTOCOL.md "Fan-out"):
//
//  client -> relay, on the relay command's stdin (its own SSH channel):
//    "PBXRLAY\n" u32 version, then frames (u8 kind, u32 length, payload):
//      'T' token[32]                       admit one host connection with it
//      'B' id[64] u64 size                 a sealed content follows, `size` bytes
//      'D' bytes                           the next bytes of that content
//      'U' token[32]                       (a relay started with --upstream) its
//                                          token at the upstream relay; before any 'T'
//  A relay started with --upstream gets no contents on stdin: it fetches
//  each one a host asks for from its upstream relay (as a host would, with
//  its 'U' token), once, and serves it to all its hosts: hosts serve hosts,
//  so no one relay's uplink carries a copy per host of a big site.
//  host -> relay, over TCP inside the site:
//    "PBXRGET\n" token[32], then requests id[64]; the relay answers each, in
//    order, with 'Y' u64 size bytes[size] once it has that content.
//
// An id is the content's SHA-256 and its patch base's (zeros for a whole
// content): a patch and the whole content are different bytes.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "upload/common/manifest.h"

namespace plugbox::upload {

inline constexpr std::string_view kRelayMagic = "PBXRLAY\n";
inline constexpr std::string_view kRelayGetMagic = "PBXRGET\n";
inline constexpr std::uint32_t kRelayVersion = 1;
inline constexpr std::size_t kRelayTokenBytes = 32;
inline constexpr std::size_t kRelayIdBytes = 64;
// A sealed content is at most a whole content (zstd's bound of a
// kMaxPatchBytes-or-larger file) plus the seal: the relay refuses more.
inline constexpr std::uint64_t kMaxRelayBlob = 2ull << 30;

using RelayToken = std::array<std::uint8_t, kRelayTokenBytes>;

enum RelayFrame : std::uint8_t { kRelayToken = 'T', kRelayBlob = 'B', kRelayData = 'D', kRelayUpstreamToken = 'U' };

// The 64 id bytes of a content (base: nullptr for whole).
std::string relay_id(const Digest& content, const Digest* base);
// A fresh random token (RAND_bytes); throws std::runtime_error on failure.
RelayToken new_relay_token();
std::string_view token_bytes(const RelayToken& t);

// "ADDR:PORT" (numeric IPv4, or [IPv6]) into a socket address; false with
// *why (one line) otherwise. Numeric only: the static plugbox-server makes
// no name lookups.
struct RelayEndpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};
bool parse_relay_endpoint(const std::string& text, RelayEndpoint* out, std::string* why);
// The endpoint's text again, with the port it has now.
std::string relay_endpoint_text(const sockaddr_storage& addr);

std::string encode_relay_hello();
std::string encode_relay_token(const RelayToken& t);
std::string encode_relay_upstream_token(const RelayToken& t);
// The 'B' frame and as many 'D' frames as `sealed` needs.
std::string encode_relay_blob(std::string_view id, std::string_view sealed);

}  // namespace plugbox::upload
