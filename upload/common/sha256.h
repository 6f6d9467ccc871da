// SHA-256 over OpenSSL's libcrypto (EVP), streaming: the digest of every file
// in a manifest, computed on the client and re-checked on arrival.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace plugbox::upload {

using Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(const void* data, std::size_t len);
  void update(std::string_view s) { update(s.data(), s.size()); }
  Digest finish();  // then the object may be reused: it is reset

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

Digest sha256(std::string_view data);
std::string to_hex(const Digest& d);
// False when `hex` is not 64 lowercase hex digits.
bool from_hex(std::string_view hex, Digest* out);

}  // namespace plugbox::upload
