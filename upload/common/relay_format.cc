#include "upload/common/relay_format.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "upload/common/stream_format.h"
#include "upload/common/wire.h"

namespace plugbox::upload {

namespace {

void put_frame(std::string* out, std::uint8_t kind, std::string_view payload) {
  wire::put_u8(*out, kind);
  wire::put_u32(*out, std::uint32_t(payload.size()));
  out->append(payload);
}

}  // namespace

std::string relay_id(const Digest& content, const Digest* base) {
  std::string id(reinterpret_cast<const char*>(content.data()), content.size());
  if (base) id.append(reinterpret_cast<const char*>(base->data()), base->size());
  else id.append(32, '\0');
  return id;
}

RelayToken new_relay_token() {
  RelayToken t;
  if (RAND_bytes(t.data(), int(t.size())) != 1) throw std::runtime_error("fan-out: no random bytes for a token");
  return t;
}

std::string_view token_bytes(const RelayToken& t) {
  return {reinterpret_cast<const char*>(t.data()), t.size()};
}

bool parse_relay_endpoint(const std::string& text, RelayEndpoint* out, std::string* why) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return *why = "'" + text + "' is not ADDR:PORT", false;
  std::string addr = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  int port = port_text.empty() || port_text.size() > 5 ? -1 : 0;
  for (char c : port_text) port = c >= '0' && c <= '9' && port >= 0 ? port * 10 + (c - '0') : -1;
  if (port < 0 || port > 65535) return *why = "port '" + port_text + "' is not in 0..65535", false;
  *out = RelayEndpoint{};
  if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']') {
    addr = addr.substr(1, addr.size() - 2);
    auto* a = reinterpret_cast<sockaddr_in6*>(&out->addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(std::uint16_t(port));
    if (::inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr) != 1)
      return *why = "'" + addr + "' is not a numeric IPv6 address", false;
    out->len = sizeof *a;
    return true;
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&out->addr);
  a->sin_family = AF_INET;
  a->sin_port = htons(std::uint16_t(port));
  if (::inet_pton(AF_INET, addr.c_str(), &a->sin_addr) != 1)
    return *why = "'" + addr + "' is not a numeric IPv4 address", false;
  out->len = sizeof *a;
  return true;
}

std::string relay_endpoint_text(const sockaddr_storage& addr) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
  ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
  return std::string(buf) + ":" + std::to_string(ntohs(a->sin_port));
}

std::string encode_relay_hello() {
  std::string out(kRelayMagic);
  wire::put_u32(out, kRelayVersion);
  return out;
}

std::string encode_relay_token(const RelayToken& t) {
  std::string out;
  put_frame(&out, kRelayToken, token_bytes(t));
  return out;
}

std::string encode_relay_upstream_token(const RelayToken& t) {
  std::string out;
  put_frame(&out, kRelayUpstreamToken, token_bytes(t));
  return out;
}

std::string encode_relay_blob(std::string_view id, std::string_view sealed) {
  std::string out, begin(id);
  wire::put_u64(begin, sealed.size());
  put_frame(&out, kRelayBlob, begin);
  for (std::size_t off = 0; off < sealed.size(); off += kMaxFramePayload)
    put_frame(&out, kRelayData, sealed.substr(off, kMaxFramePayload));
  return out;
}

}  // namespace plugbox::upload
