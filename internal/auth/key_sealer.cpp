#include "key_sealer.hpp"

#include <sodium.h>

#include <stdexcept>

namespace ates::auth {
namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

KeySealer KeySealer::FromBase64(std::string_view base64_key) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium init failed");
  std::array<unsigned char, 32> key{};
  size_t len = 0;
  if (sodium_base642bin(key.data(), key.size(), base64_key.data(), base64_key.size(), " \n", &len,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len != key.size()) {
    throw std::invalid_argument(
        "the key encryption key must be 32 random bytes in standard base64"
        " (e.g. `openssl rand -base64 32`)");
  }
  return KeySealer(key);
}

SealedSecret KeySealer::Seal(std::string_view secret, std::string_view kid) const {
  SealedSecret out;
  out.nonce.resize(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  randombytes_buf(out.nonce.data(), out.nonce.size());
  out.ciphertext.resize(secret.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(out.ciphertext.data()), &written, Bytes(secret),
      secret.size(), Bytes(kid), kid.size(), nullptr, Bytes(out.nonce), key_.data());
  out.ciphertext.resize(written);
  return out;
}

std::string KeySealer::Open(const SealedSecret& sealed, std::string_view kid) const {
  if (sealed.nonce.size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ||
      sealed.ciphertext.size() < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    throw KeySealError("signing key " + std::string(kid) + " is not a sealed secret");
  }
  std::string plain(sealed.ciphertext.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain.data()),
                                                 &written, nullptr, Bytes(sealed.ciphertext),
                                                 sealed.ciphertext.size(), Bytes(kid), kid.size(),
                                                 Bytes(sealed.nonce), key_.data()) != 0) {
    throw KeySealError("signing key " + std::string(kid) +
                       " does not open with the configured key encryption key");
  }
  plain.resize(written);
  return plain;
}

}  // namespace ates::auth
