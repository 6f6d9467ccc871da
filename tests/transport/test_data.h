// Payloads for the exec tests (local and SSH alike): reproducible random
// bytes, and the SHA-256 the far side's `sha256sum` prints for them.
// Needs OpenSSL::Crypto.
#pragma once

#include <openssl/evp.h>

#include <cstddef>
#include <random>
#include <string>

namespace plugbox::transport::test {

inline std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

inline std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen());
  return s;
}

}  // namespace plugbox::transport::test
