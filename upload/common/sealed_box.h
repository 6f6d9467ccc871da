// Fan-out's encryption (docs/DESIGN.md §6 "Fan-out inside a site"): each
// content crosses the slow link once, to a relay inside the site, sealed with
// a key made for this one deploy; each host gets the key over its own SSH
// channel and opens what it fetches. The relay and the network between the
// hosts only ever see ciphertext, so nothing new has to be trusted there.
//
// AES-256-GCM (OpenSSL's libcrypto, already a dependency for SHA-256): an
// AEAD, so a ciphertext changed anywhere fails to open, and the content's
// id is the associated data, so a relay cannot answer one request with
// another content's (valid) ciphertext. The nonce is random per seal (96
// bits: a deploy seals a few thousand contents under its key, far below the
// 2^32 messages NIST allows one key with random nonces).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace plugbox::upload {

using SealKey = std::array<std::uint8_t, 32>;
inline constexpr std::size_t kSealOverhead = 12 + 16;  // nonce + tag

// A fresh random key (RAND_bytes); throws std::runtime_error if the system's
// random source fails.
SealKey new_seal_key();
// nonce | ciphertext | tag. Throws std::runtime_error on a libcrypto failure.
std::string seal(const SealKey& key, std::string_view associated, std::string_view plain);
// False when `sealed` is not exactly what seal() made of some plaintext with
// this key and `associated` (changed, truncated, another key or id).
bool open_sealed(const SealKey& key, std::string_view associated, std::string_view sealed, std::string* plain);

}  // namespace plugbox::upload
