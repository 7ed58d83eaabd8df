#pragma once

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ates::auth {

enum class Role { kUnspecified = 0, kAdmin = 1, kManager = 2, kAccountant = 3, kWorker = 4 };

std::string_view RoleName(Role role);                  // "admin", ...
std::optional<Role> ParseRole(std::string_view name);  // inverse of RoleName

// Who is calling, as proven by a verified access token.
struct Principal {
  std::string account_id;
  Role role = Role::kUnspecified;
  // The account's version when the token was issued (claim "ver"): a later
  // version (deactivated, role or password changed) revokes the token.
  int64_t account_version = 0;
};

// An Ed25519 key pair; `kid` names it in token headers.
struct SigningKey {
  std::string kid;
  std::array<unsigned char, 64> secret{};
  std::array<unsigned char, 32> public_key{};

  static SigningKey Generate(std::string kid);
  static SigningKey FromSeed(std::string kid, std::string_view seed32);
};

struct TokenClaims {
  std::string issuer;
  std::string audience;
  std::string subject;  // account id
  Role role = Role::kUnspecified;
  int64_t account_version = 0;  // claim "ver"
  std::chrono::system_clock::time_point issued_at;
  std::chrono::system_clock::time_point expires_at;
};

// Compact JWS (header.payload.signature) with alg EdDSA.
std::string SignToken(const SigningKey& key, const TokenClaims& claims);

std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

// Verifies tokens locally against a set of public keys by kid. Thread-safe;
// keys can be replaced while requests are verified (rotation).
class TokenVerifier final {
 public:
  TokenVerifier(std::string issuer, std::string audience);

  using PublicKeys = std::map<std::string, std::array<unsigned char, 32>>;

  // Replaces the whole key set (keys held locally, tests).
  void SetKeys(PublicKeys keys);
  // Adds or updates `keys` (a fresh answer of the key server) and keeps a key
  // missing from it until it has been missing for the retired-key grace, so
  // one odd answer cannot take away the keys that verify live tokens. Returns
  // the kids dropped now.
  std::vector<std::string> MergeKeys(PublicKeys keys, std::chrono::system_clock::time_point now =
                                                          std::chrono::system_clock::now());
  void SetRetiredKeyGrace(std::chrono::milliseconds grace);
  bool HasKey(const std::string& kid) const;
  size_t KeyCount() const;

  // Throws ates::Error(kUnauthenticated) for anything but a valid, current token.
  Principal Verify(std::string_view token,
                   std::chrono::system_clock::time_point now = std::chrono::system_clock::now(),
                   std::string* unknown_kid = nullptr) const;

  const std::string& issuer() const { return issuer_; }
  const std::string& audience() const { return audience_; }

 private:
  std::string issuer_;
  std::string audience_;
  mutable std::mutex mu_;
  PublicKeys keys_;
  // When each key was last in an answer of the key server (MergeKeys).
  std::map<std::string, std::chrono::system_clock::time_point> last_seen_;
  std::chrono::milliseconds retired_key_grace_{std::chrono::minutes(10)};

  // Tokens that verified, by their exact text: a client sends the same token
  // with every call, and the signature check plus two JSON parses were about
  // 10% of a small RPC's CPU. A hit still checks the expiry against `now` and
  // that the key it was verified with is still the key of its kid; bounded
  // (cleared when full).
  struct Verified {
    Principal principal;
    int64_t expires_at = 0;  // unix seconds
    std::string kid;
    std::array<unsigned char, 32> public_key{};
  };
  bool KeyIs(const std::string& kid, const std::array<unsigned char, 32>& public_key) const;
  // The steps of Verify: a cached verdict, the three parts, the signature (the
  // kid and key it was made with), the claims. Each throws as Verify does.
  struct Parts;
  using Clock = std::chrono::system_clock;
  std::optional<Principal> Cached(std::string_view token, Clock::time_point now) const;
  static Parts Split(std::string_view token);
  std::pair<std::string, std::array<unsigned char, 32>> CheckSignature(
      const Parts& parts, std::string* unknown_kid) const;
  Principal ReadClaims(const std::string& payload_json, Clock::time_point now,
                       int64_t* expires_at) const;
  mutable std::mutex cache_mu_;
  mutable std::map<std::string, Verified, std::less<>> verified_;
};

}  // namespace ates::auth
