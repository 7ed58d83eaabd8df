#include "signing_keys.hpp"

#include <sodium.h>

#include <cstring>
#include <stdexcept>

#include "ates/platform/config.hpp"
#include "ates/platform/error.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/timestamps.hpp"
#include "auth/queries.hpp"

namespace ates::auth {
namespace {

using Clock = std::chrono::system_clock;

// A stored key's secret: sealed (with its nonce), or still in plaintext (no nonce).
struct SealedKeyRow {
  std::string kid;
  std::string secret;
  std::optional<std::string> nonce;
  static SealedKeyRow From(const pg::Row& row) {
    return {row.String("kid"), row.Bytes("secret"),
            row.IsNull("nonce") ? std::nullopt : std::optional(row.Bytes("nonce"))};
  }
};

PublicKeyInfo PublicKeyFrom(const pg::Row& row) {
  return {row.String("kid"), row.Bytes("public_key"),
          platform::FromEpochText(row.Text("created_at"))};
}

std::string_view View(const auto& bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string NewKid() { return "k-" + events::NewUuid().substr(0, 13); }

}  // namespace

SigningKeyStore::SigningKeyStore(pg::Pool& db, KeySealer sealer, SigningKeySettings settings)
    : db_(db), sealer_(std::move(sealer)), settings_(std::move(settings)) {}

std::optional<SigningKey> SigningKeyStore::ConfiguredKey() const {
  if (settings_.seed.empty()) return std::nullopt;
  auto seed = Base64UrlDecode(settings_.seed);
  if (!seed || seed->size() != 32) {
    throw std::runtime_error("auth.signing_key_seed must be 32 bytes, base64url without padding");
  }
  return SigningKey::FromSeed(settings_.seed_kid.empty() ? "configured" : settings_.seed_kid,
                              *seed);
}

void SigningKeyStore::Insert(pg::Transaction& tx, const SigningKey& key) {
  auto sealed = sealer_.Seal(View(key.secret), key.kid);
  tx.Exec(sql::kInsertSigningKey, {pg::Text(key.kid), pg::Bytes(sealed.ciphertext),
                                   pg::Bytes(sealed.nonce), pg::Bytes(View(key.public_key))});
}

void SigningKeyStore::SealPlaintextKeys(pg::Transaction& tx) {
  auto plain = tx.Exec(sql::kSelectPlaintextSigningKeys);
  for (int i = 0; i < plain.Rows(); ++i) {
    auto key = SealedKeyRow::From(plain.At(i));
    auto sealed = sealer_.Seal(key.secret, key.kid);
    tx.Exec(sql::kSealSigningKey,
            {pg::Text(key.kid), pg::Bytes(sealed.ciphertext), pg::Bytes(sealed.nonce)});
    log::Info("signing key sealed at rest", {{"kid", key.kid}});
  }
}

void SigningKeyStore::EnsureKey() {
  auto configured = ConfiguredKey();
  db_.InTransaction([&](pg::Transaction& tx) {
    tx.Exec(sql::kLockSigningKeys);
    SealPlaintextKeys(tx);
    if (configured) {
      Insert(tx, *configured);  // once; a rotation later retires it like any other key
      return;
    }
    if (tx.Exec(sql::kSelectCurrentSigningKey).Rows() > 0) return;
    auto key = SigningKey::Generate(NewKid());
    Insert(tx, key);
    log::Info("signing key generated", {{"kid", key.kid}});
  });
  try {
    Current();
  } catch (const KeySealError& e) {
    // Another key than the one the keys were sealed with: no retry helps.
    throw platform::ConfigError(std::string(e.what()) +
                                " (auth.key_encryption_key / ATES_AUTH_KEY_ENCRYPTION_KEY)");
  }
}

SigningKey SigningKeyStore::Current() {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (current_ && now - loaded_ < settings_.cache) return *current_;
  auto r = db_.WithRetry([&](pg::Connection& c) { return c.Exec(sql::kSelectCurrentSigningKey); });
  if (r.Rows() == 0) throw Error(ErrorCode::kUnavailable, "no signing key yet");
  auto stored = SealedKeyRow::From(r.At(0));
  SigningKey k;
  k.kid = stored.kid;
  if (!stored.nonce) throw std::runtime_error("signing key " + k.kid + " is not sealed yet");
  std::string secret = sealer_.Open({std::move(stored.secret), std::move(*stored.nonce)}, k.kid);
  if (secret.size() != k.secret.size()) throw std::runtime_error("corrupt signing key " + k.kid);
  std::memcpy(k.secret.data(), secret.data(), secret.size());
  sodium_memzero(secret.data(), secret.size());
  crypto_sign_ed25519_sk_to_pk(k.public_key.data(), k.secret.data());
  current_ = k;
  loaded_ = now;
  return k;
}

KeyRotation SigningKeyStore::Rotate() {
  auto key = SigningKey::Generate(NewKid());
  KeyRotation rotation;
  rotation.kid = key.kid;
  db_.InTransaction([&](pg::Transaction& tx) {
    tx.Exec(sql::kLockSigningKeys);
    Insert(tx, key);
    auto retired = tx.Exec(sql::kRetireOtherSigningKeys, {pg::Text(key.kid)});
    rotation.retired_kids.clear();
    for (int i = 0; i < retired.Rows(); ++i) {
      rotation.retired_kids.push_back(retired.At(i).String("kid"));
    }
    auto created = tx.Exec(sql::kSelectSigningKeyCreatedAt, {pg::Text(key.kid)});
    rotation.created_at = platform::FromEpochText(created.At(0).Text("created_at"));
  });
  rotation.retired_until = Clock::now() + overlap();
  {
    std::lock_guard lock(mu_);
    current_ = key;
    loaded_ = std::chrono::steady_clock::now();
  }
  log::Info("signing key rotated",
            {{"kid", key.kid}, {"retired", std::to_string(rotation.retired_kids.size())}});
  return rotation;
}

std::vector<PublicKeyInfo> SigningKeyStore::Published() {
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(sql::kSelectPublishedSigningKeys, {pg::Int(overlap().count())});
  });
  std::vector<PublicKeyInfo> keys;
  for (int i = 0; i < r.Rows(); ++i) keys.push_back(PublicKeyFrom(r.At(i)));
  return keys;
}

std::map<std::string, std::array<unsigned char, 32>> SigningKeyStore::PublicKeys() {
  std::map<std::string, std::array<unsigned char, 32>> out;
  for (const auto& k : Published()) {
    if (k.public_key.size() != 32) continue;
    std::array<unsigned char, 32> raw;
    std::memcpy(raw.data(), k.public_key.data(), 32);
    out[k.kid] = raw;
  }
  return out;
}

}  // namespace ates::auth
