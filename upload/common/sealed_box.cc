#include "upload/common/sealed_box.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

namespace plugbox::upload {

namespace {

constexpr int kNonce = 12, kTag = 16;

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

}  // namespace

SealKey new_seal_key() {
  SealKey k;
  if (RAND_bytes(k.data(), int(k.size())) != 1) throw std::runtime_error("fan-out: no random bytes for a key");
  return k;
}

std::string seal(const SealKey& key, std::string_view associated, std::string_view plain) {
  std::string out(kNonce + plain.size() + kTag, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(o, kNonce) != 1) throw std::runtime_error("fan-out: no random bytes for a nonce");
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0, fin = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), o) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(associated), int(associated.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + kNonce, &len, bytes(plain), int(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + kNonce + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, o + kNonce + plain.size()) != 1)
    throw std::runtime_error("fan-out: AES-256-GCM encryption failed");
  return out;
}

bool open_sealed(const SealKey& key, std::string_view associated, std::string_view sealed, std::string* plain) {
  if (sealed.size() < kSealOverhead) return false;
  const std::size_t n = sealed.size() - kSealOverhead;
  plain->resize(n);
  auto* p = reinterpret_cast<unsigned char*>(plain->data());
  const unsigned char* s = bytes(sealed);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0, fin = 0;
  // The tag is set before the final call; EVP takes a non-const pointer.
  unsigned char tag[kTag];
  std::copy(s + kNonce + n, s + kNonce + n + kTag, tag);
  const bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), s) == 1 &&
                  EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(associated), int(associated.size())) == 1 &&
                  EVP_DecryptUpdate(ctx.get(), p, &len, s + kNonce, int(n)) == 1 &&
                  EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag) == 1 &&
                  EVP_DecryptFinal_ex(ctx.get(), p + len, &fin) == 1;
  if (!ok) plain->clear();
  return ok;
}

}  // namespace plugbox::upload
