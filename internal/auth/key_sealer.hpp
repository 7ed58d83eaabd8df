#pragma once

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ates::auth {

// A signing key's private half as stored: XChaCha20-Poly1305 ciphertext and its nonce.
struct SealedSecret {
  std::string ciphertext;
  std::string nonce;
};

// A sealed secret that does not open: altered, another kid's, or sealed with another key.
class KeySealError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Encrypts signing keys at rest with a 32-byte key from the environment
// (ATES_AUTH_KEY_ENCRYPTION_KEY, standard base64). The key id is the
// associated data, so a sealed secret moved to another row does not open.
class KeySealer final {
 public:
  // Throws std::invalid_argument when `base64_key` is not 32 bytes of base64.
  static KeySealer FromBase64(std::string_view base64_key);

  SealedSecret Seal(std::string_view secret, std::string_view kid) const;
  // Throws KeySealError when the ciphertext was altered, belongs to
  // another kid or was sealed with another key.
  std::string Open(const SealedSecret& sealed, std::string_view kid) const;

 private:
  explicit KeySealer(const std::array<unsigned char, 32>& key) : key_(key) {}
  std::array<unsigned char, 32> key_;
};

}  // namespace ates::auth
