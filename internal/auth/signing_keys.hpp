#pragma once

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ates/platform/pg.hpp"
#include "ates/platform/token.hpp"
#include "key_sealer.hpp"

namespace ates::auth {

struct SigningKeySettings {
  std::chrono::seconds token_ttl{3600};
  // How long a replica signs with the key it read before it looks again; a
  // retired key is published for token_ttl + 2 * this, so every token it
  // signed can still be verified until it expires.
  std::chrono::seconds cache{30};
  std::string seed;  // optional base64url 32-byte seed of a first key (from a Secret)
  std::string seed_kid;
};

struct PublicKeyInfo {
  std::string kid;
  std::string public_key;
  std::chrono::system_clock::time_point created_at;
};

struct KeyRotation {
  std::string kid;
  std::chrono::system_clock::time_point created_at;
  std::vector<std::string> retired_kids;
  std::chrono::system_clock::time_point retired_until;
};

// The Ed25519 keys that sign access tokens, sealed at rest. The newest key
// not retired signs; retired keys verify for an overlap window, then are no
// longer published.
class SigningKeyStore final {
 public:
  SigningKeyStore(pg::Pool& db, KeySealer sealer, SigningKeySettings settings);

  // At start: seals keys still stored in plaintext, and makes sure a key exists.
  void EnsureKey();
  // The key that signs now (cached for settings.cache).
  SigningKey Current();
  // A new key signs from now on; every other key is retired.
  KeyRotation Rotate();
  // Every key that may verify a current token.
  std::vector<PublicKeyInfo> Published();
  std::map<std::string, std::array<unsigned char, 32>> PublicKeys();

  std::chrono::seconds overlap() const { return settings_.token_ttl + 2 * settings_.cache; }

 private:
  void SealPlaintextKeys(pg::Transaction& tx);
  void Insert(pg::Transaction& tx, const SigningKey& key);
  std::optional<SigningKey> ConfiguredKey() const;

  pg::Pool& db_;
  KeySealer sealer_;
  SigningKeySettings settings_;
  std::mutex mu_;
  std::optional<SigningKey> current_;  // guarded by mu_
  std::chrono::steady_clock::time_point loaded_{};
};

}  // namespace ates::auth
