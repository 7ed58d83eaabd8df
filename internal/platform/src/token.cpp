#include "ates/platform/token.hpp"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <sodium.h>

#include "ates/platform/error.hpp"

namespace ates::auth {
namespace {

using Clock = std::chrono::system_clock;

[[noreturn]] void Reject(const std::string& why) {
  throw Error(ErrorCode::kUnauthenticated, "invalid access token: " + why);
}

int64_t ToUnix(Clock::time_point tp) {
  return std::chrono::duration_cast<std::chrono::seconds>(tp.time_since_epoch()).count();
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out + "\"";
}

bool ParseJsonObject(std::string_view json, google::protobuf::Struct* out) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  return google::protobuf::util::JsonStringToMessage(std::string(json), out, options).ok();
}

const google::protobuf::Value* Field(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? nullptr : &it->second;
}

std::string StringField(const google::protobuf::Struct& s, const std::string& key) {
  auto* v = Field(s, key);
  if (v == nullptr || v->kind_case() != google::protobuf::Value::kStringValue) {
    Reject("claim '" + key + "' missing");
  }
  return v->string_value();
}

int64_t NumberField(const google::protobuf::Struct& s, const std::string& key) {
  auto* v = Field(s, key);
  if (v == nullptr || v->kind_case() != google::protobuf::Value::kNumberValue) {
    Reject("claim '" + key + "' missing");
  }
  return static_cast<int64_t>(v->number_value());
}

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kManager:
      return "manager";
    case Role::kAccountant:
      return "accountant";
    case Role::kWorker:
      return "worker";
    default:
      return "unspecified";
  }
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kAdmin, Role::kManager, Role::kAccountant, Role::kWorker}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

SigningKey SigningKey::Generate(std::string kid) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium init failed");
  SigningKey k;
  k.kid = std::move(kid);
  crypto_sign_keypair(k.public_key.data(), k.secret.data());
  return k;
}

SigningKey SigningKey::FromSeed(std::string kid, std::string_view seed) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium init failed");
  if (seed.size() != crypto_sign_SEEDBYTES) throw std::invalid_argument("seed must be 32 bytes");
  SigningKey k;
  k.kid = std::move(kid);
  crypto_sign_seed_keypair(k.public_key.data(), k.secret.data(),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  return k;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

std::string SignToken(const SigningKey& key, const TokenClaims& c) {
  std::string header = R"({"alg":"EdDSA","typ":"JWT","kid":)" + JsonString(key.kid) + "}";
  std::string payload = "{\"iss\":" + JsonString(c.issuer) + ",\"aud\":" + JsonString(c.audience) +
                        ",\"sub\":" + JsonString(c.subject) +
                        ",\"role\":" + JsonString(RoleName(c.role)) +
                        ",\"ver\":" + std::to_string(c.account_version) +
                        ",\"iat\":" + std::to_string(ToUnix(c.issued_at)) +
                        ",\"exp\":" + std::to_string(ToUnix(c.expires_at)) + "}";
  std::string signing_input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size(), key.secret.data());
  return signing_input + "." +
         Base64UrlEncode(std::string_view(reinterpret_cast<char*>(sig), sizeof sig));
}

TokenVerifier::TokenVerifier(std::string issuer, std::string audience)
    : issuer_(std::move(issuer)), audience_(std::move(audience)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium init failed");
}

void TokenVerifier::SetKeys(PublicKeys keys) {
  std::lock_guard lock(mu_);
  keys_ = std::move(keys);
  last_seen_.clear();
  auto now = Clock::now();
  for (const auto& [kid, key] : keys_) last_seen_[kid] = now;
}

std::vector<std::string> TokenVerifier::MergeKeys(PublicKeys keys, Clock::time_point now) {
  std::lock_guard lock(mu_);
  for (auto& [kid, key] : keys) {
    keys_[kid] = key;
    last_seen_[kid] = now;
  }
  std::vector<std::string> dropped;
  for (auto it = keys_.begin(); it != keys_.end();) {
    auto seen = last_seen_.find(it->first);
    bool expired = seen == last_seen_.end() || now - seen->second >= retired_key_grace_;
    if (keys.count(it->first) || !expired) {
      ++it;
      continue;
    }
    dropped.push_back(it->first);
    if (seen != last_seen_.end()) last_seen_.erase(seen);
    it = keys_.erase(it);
  }
  return dropped;
}

void TokenVerifier::SetRetiredKeyGrace(std::chrono::milliseconds grace) {
  std::lock_guard lock(mu_);
  retired_key_grace_ = grace;
}

bool TokenVerifier::HasKey(const std::string& kid) const {
  std::lock_guard lock(mu_);
  return keys_.count(kid) > 0;
}

bool TokenVerifier::KeyIs(const std::string& kid,
                          const std::array<unsigned char, 32>& public_key) const {
  std::lock_guard lock(mu_);
  auto it = keys_.find(kid);
  return it != keys_.end() && it->second == public_key;
}

size_t TokenVerifier::KeyCount() const {
  std::lock_guard lock(mu_);
  return keys_.size();
}

// A compact JWS split in its three parts, decoded.
struct TokenVerifier::Parts {
  std::string_view signing_input;
  std::string header_json;
  std::string payload_json;
  std::string signature;
};

std::optional<Principal> TokenVerifier::Cached(std::string_view token,
                                               Clock::time_point now) const {
  std::lock_guard lock(cache_mu_);
  auto it = verified_.find(token);
  if (it == verified_.end()) return std::nullopt;
  if (ToUnix(now) >= it->second.expires_at) {
    verified_.erase(it);
    Reject("expired");
  }
  if (KeyIs(it->second.kid, it->second.public_key)) return it->second.principal;
  verified_.erase(it);  // its key was rotated out: verify (and refuse) in full
  return std::nullopt;
}

TokenVerifier::Parts TokenVerifier::Split(std::string_view token) {
  if (token.empty()) Reject("empty");
  if (token.size() > 8192) Reject("too long");
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    Reject("not a compact JWS");
  }
  auto header_json = Base64UrlDecode(token.substr(0, dot1));
  auto payload_json = Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!header_json || !payload_json || !signature) Reject("bad base64url");
  return Parts{token.substr(0, dot2), std::move(*header_json), std::move(*payload_json),
               std::move(*signature)};
}

std::pair<std::string, std::array<unsigned char, 32>> TokenVerifier::CheckSignature(
    const Parts& parts, std::string* unknown_kid) const {
  google::protobuf::Struct header;
  if (!ParseJsonObject(parts.header_json, &header)) Reject("bad header");
  // Only EdDSA is accepted: "none", HS256 with the public key, etc. are refused.
  if (StringField(header, "alg") != "EdDSA") Reject("unsupported alg");
  std::string kid = StringField(header, "kid");
  std::array<unsigned char, 32> public_key;
  {
    std::lock_guard lock(mu_);
    auto it = keys_.find(kid);
    if (it == keys_.end()) {
      if (unknown_kid) *unknown_kid = kid;
      Reject("unknown key id");
    }
    public_key = it->second;
  }
  if (parts.signature.size() != crypto_sign_BYTES) Reject("bad signature");
  if (crypto_sign_verify_detached(
          reinterpret_cast<const unsigned char*>(parts.signature.data()),
          reinterpret_cast<const unsigned char*>(parts.signing_input.data()),
          parts.signing_input.size(), public_key.data()) != 0) {
    Reject("bad signature");
  }
  return {std::move(kid), public_key};
}

Principal TokenVerifier::ReadClaims(const std::string& payload_json, Clock::time_point now,
                                    int64_t* expires_at) const {
  google::protobuf::Struct claims;
  if (!ParseJsonObject(payload_json, &claims)) Reject("bad payload");
  if (StringField(claims, "iss") != issuer_) Reject("wrong issuer");
  if (StringField(claims, "aud") != audience_) Reject("wrong audience");
  *expires_at = NumberField(claims, "exp");
  if (ToUnix(now) >= *expires_at) Reject("expired");
  Principal p;
  p.account_id = StringField(claims, "sub");
  auto role = ParseRole(StringField(claims, "role"));
  if (!role) Reject("unknown role");
  p.role = *role;
  p.account_version = NumberField(claims, "ver");
  return p;
}

Principal TokenVerifier::Verify(std::string_view token, Clock::time_point now,
                                std::string* unknown_kid) const {
  if (auto cached = Cached(token, now)) return *cached;
  Parts parts = Split(token);
  auto [kid, public_key] = CheckSignature(parts, unknown_kid);
  int64_t expires_at = 0;
  Principal p = ReadClaims(parts.payload_json, now, &expires_at);
  constexpr size_t kMaxCached = 4096;
  std::lock_guard lock(cache_mu_);
  if (verified_.size() >= kMaxCached) verified_.clear();
  verified_.emplace(std::string(token), Verified{p, expires_at, kid, public_key});
  return p;
}

}  // namespace ates::auth
