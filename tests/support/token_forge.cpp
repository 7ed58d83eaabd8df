#include "support/token_forge.hpp"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

namespace ates::test {

std::string MintToken(const std::string& header_json, const std::string& payload_json,
                      const auth::SigningKey* key) {
  std::string input =
      auth::Base64UrlEncode(header_json) + "." + auth::Base64UrlEncode(payload_json);
  if (key == nullptr) return input + ".";
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size(), key->secret.data());
  return input + "." +
         auth::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(sig), sizeof sig));
}

std::string ClaimsJson(const std::string& issuer, const std::string& audience,
                       const std::string& subject, const std::string& role,
                       std::chrono::system_clock::time_point expires_at, int64_t version) {
  auto exp =
      std::chrono::duration_cast<std::chrono::seconds>(expires_at.time_since_epoch()).count();
  auto iat = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return R"({"iss":")" + issuer + R"(","aud":")" + audience + R"(","sub":")" + subject +
         R"(","role":")" + role + R"(","ver":)" + std::to_string(version) + R"(,"iat":)" +
         std::to_string(iat) + R"(,"exp":)" + std::to_string(exp) + "}";
}

std::string EdDsaHeader(const std::string& kid) {
  return R"({"alg":"EdDSA","typ":"JWT","kid":")" + kid + R"("})";
}

auth::SigningKey KeyFromSecret(const std::string& kid, const std::string& secret64) {
  if (secret64.size() != crypto_sign_SECRETKEYBYTES) {
    throw std::invalid_argument("secret key must be 64 bytes");
  }
  auth::SigningKey k;
  k.kid = kid;
  std::memcpy(k.secret.data(), secret64.data(), 64);
  crypto_sign_ed25519_sk_to_pk(k.public_key.data(), k.secret.data());
  return k;
}

}  // namespace ates::test
