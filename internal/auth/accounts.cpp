#include "accounts.hpp"

#include <google/protobuf/util/time_util.h>
#include <sodium.h>

#include <cstring>

#include "ates/events/accounts/v1/account_events.pb.h"
#include "ates/platform/error.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/outbox.hpp"
#include "passwords.hpp"

namespace ates::auth {
namespace {

using Clock = std::chrono::system_clock;
namespace ev = ::ates::events::accounts::v1;

constexpr std::string_view kInsertAccount =
    "INSERT INTO accounts (id, login, full_name, email, role, password_hash, created_at,"
    " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)";

constexpr std::string_view kSelectById =
    "SELECT id, login, full_name, email, role, active, version,"
    " EXTRACT(EPOCH FROM created_at)::float8, EXTRACT(EPOCH FROM updated_at)::float8"
    " FROM accounts WHERE id = $1";
constexpr std::string_view kSelectByIdForUpdate =
    "SELECT id, login, full_name, email, role, active, version,"
    " EXTRACT(EPOCH FROM created_at)::float8, EXTRACT(EPOCH FROM updated_at)::float8"
    " FROM accounts WHERE id = $1 FOR UPDATE";
constexpr std::string_view kSelectPage =
    "SELECT id, login, full_name, email, role, active, version,"
    " EXTRACT(EPOCH FROM created_at)::float8, EXTRACT(EPOCH FROM updated_at)::float8"
    " FROM accounts WHERE id > $1 ORDER BY id LIMIT $2";
constexpr std::string_view kUpdateAccount =
    "UPDATE accounts SET role = $2, email = $3, full_name = $4, active = $5,"
    " version = version + 1, updated_at = $6 WHERE id = $1 RETURNING version";

constexpr std::string_view kSelectCredentials =
    "SELECT id, login, full_name, email, role, active, version,"
    " EXTRACT(EPOCH FROM created_at)::float8, EXTRACT(EPOCH FROM updated_at)::float8,"
    " password_hash FROM accounts WHERE login = $1";
constexpr std::string_view kSelectHashForUpdate =
    "SELECT password_hash FROM accounts WHERE id = $1 FOR UPDATE";
constexpr std::string_view kUpdateHash =
    "UPDATE accounts SET password_hash = $2, updated_at = now() WHERE id = $1";

constexpr std::string_view kFailuresInWindow =
    "SELECT failures FROM login_failures WHERE login = $1"
    " AND window_start > now() - make_interval(secs => $2)";
constexpr std::string_view kRecordFailure =
    "INSERT INTO login_failures (login, failures, window_start) VALUES ($1, 1, now())"
    " ON CONFLICT (login) DO UPDATE SET"
    " failures = CASE WHEN login_failures.window_start > now() - make_interval(secs => $2)"
    "   THEN login_failures.failures + 1 ELSE 1 END,"
    " window_start = CASE WHEN login_failures.window_start > now() - make_interval(secs => $2)"
    "   THEN login_failures.window_start ELSE now() END";
constexpr std::string_view kClearFailures = "DELETE FROM login_failures WHERE login = $1";

constexpr std::string_view kKeyLock = "SELECT pg_advisory_xact_lock(4242002)";
constexpr std::string_view kCurrentKey =
    "SELECT kid, secret FROM signing_keys WHERE retired_at IS NULL"
    " ORDER BY created_at DESC LIMIT 1";
constexpr std::string_view kInsertKey =
    "INSERT INTO signing_keys (kid, secret, public_key) VALUES ($1, $2, $3)"
    " ON CONFLICT (kid) DO NOTHING";
constexpr std::string_view kPublicKeys =
    "SELECT kid, public_key, EXTRACT(EPOCH FROM created_at)::float8 FROM signing_keys"
    " WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)"
    " ORDER BY created_at";

Clock::time_point FromEpoch(std::string_view text) {
  double secs = std::stod(std::string(text));
  return Clock::time_point(std::chrono::microseconds(static_cast<int64_t>(secs * 1e6)));
}

Account ReadAccount(const pg::Result& r, int row) {
  Account a;
  a.id = r.String(row, 0);
  a.login = r.String(row, 1);
  a.full_name = r.String(row, 2);
  a.email = r.String(row, 3);
  a.role = ParseRole(r.Text(row, 4)).value_or(Role::kUnspecified);
  a.active = r.Bool(row, 5);
  a.version = r.Int(row, 6);
  a.created_at = FromEpoch(r.Text(row, 7));
  a.updated_at = FromEpoch(r.Text(row, 8));
  return a;
}

google::protobuf::Timestamp ToProto(Clock::time_point tp) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count());
}

void FillState(const Account& a, ev::AccountState* s) {
  s->set_account_id(a.id);
  s->set_login(a.login);
  s->set_full_name(a.full_name);
  s->set_email(a.email);
  s->set_role(static_cast<ates::common::v1::Role>(a.role));
  s->set_active(a.active);
  s->set_version(a.version);
  *s->mutable_updated_at() = ToProto(a.updated_at);
}

// Microsecond precision, as PostgreSQL stores it.
Clock::time_point Now() {
  return Clock::time_point(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()));
}

const std::string kInvalidCredentials = "invalid login or password";

}  // namespace

AccountService::AccountService(pg::Pool& db, AuthSettings settings, std::function<void()> on_commit)
    : db_(db), settings_(std::move(settings)), on_commit_(std::move(on_commit)) {}

Account AccountService::Create(const NewAccount& request) {
  Validate(request);
  Account a;
  a.id = events::NewUuid();
  a.login = request.login;
  a.full_name = request.full_name;
  a.email = request.email;
  a.role = request.role;
  a.active = true;
  a.version = 1;
  a.created_at = a.updated_at = Now();
  std::string hash = HashPassword(request.password);

  ev::AccountCreated created;
  FillState(a, created.mutable_account());
  auto event = events::Make("accounts.account.created", 1, created, "account", a.id);
  event.occurred_at = a.created_at;
  try {
    // In a tracked transaction, not the pipeline's implicit one: a rerun after
    // a lost COMMIT reply would find its own login and answer "taken".
    db_.InTransaction([&](pg::Transaction& tx) {
      tx.ExecPipeline({{kInsertAccount,
                        {pg::Text(a.id), pg::Text(a.login), pg::Text(a.full_name),
                         pg::Text(a.email), pg::Text(RoleName(a.role)), pg::Text(hash),
                         pg::Text(events::FormatTimestamp(a.created_at))}},
                       platform::OutboxInsert(event)});
    });
  } catch (const pg::PgError& e) {
    if (e.IsUniqueViolation()) {
      throw Error(ErrorCode::kAlreadyExists, "login '" + a.login + "' is taken");
    }
    throw;
  }
  on_commit_();
  log::Info("account created", {{"account_id", a.id}, {"role", std::string(RoleName(a.role))}});
  return a;
}

Account AccountService::Update(const AccountPatch& patch) {
  Validate(patch);
  Account after;
  bool changed = false;
  db_.InTransaction([&](pg::Transaction& tx) {
    auto r = tx.Exec(kSelectByIdForUpdate, {pg::Text(patch.account_id)});
    if (r.Rows() == 0) throw Error(ErrorCode::kNotFound, "no account " + patch.account_id);
    Account before = ReadAccount(r, 0);
    after = before;
    if (patch.role) after.role = *patch.role;
    if (patch.email) after.email = *patch.email;
    if (patch.full_name) after.full_name = *patch.full_name;
    if (patch.active) after.active = *patch.active;
    changed = after.role != before.role || after.email != before.email ||
              after.full_name != before.full_name || after.active != before.active;
    if (!changed) return;  // nothing new: no version bump, no event
    after.updated_at = Now();
    auto v = tx.Exec(kUpdateAccount,
                     {pg::Text(after.id), pg::Text(RoleName(after.role)), pg::Text(after.email),
                      pg::Text(after.full_name), pg::Bool(after.active),
                      pg::Text(events::FormatTimestamp(after.updated_at))});
    after.version = v.Int(0, 0);
    ev::AccountUpdated updated;
    FillState(after, updated.mutable_account());
    auto e1 = events::Make("accounts.account.updated", 1, updated, "account", after.id);
    e1.occurred_at = after.updated_at;
    tx.Exec(platform::OutboxInsert(e1));
    if (after.role != before.role) {
      ev::AccountRoleChanged rc;
      rc.set_account_id(after.id);
      rc.set_old_role(static_cast<ates::common::v1::Role>(before.role));
      rc.set_new_role(static_cast<ates::common::v1::Role>(after.role));
      rc.set_version(after.version);
      *rc.mutable_changed_at() = ToProto(after.updated_at);
      auto e2 = events::Make("accounts.account.role_changed", 1, rc, "account", after.id);
      e2.occurred_at = after.updated_at;
      e2.causation_id = e1.id;
      tx.Exec(platform::OutboxInsert(e2));
    }
  });
  if (changed) on_commit_();
  return after;
}

Account AccountService::Get(const std::string& account_id) {
  if (!events::IsUuid(account_id)) {
    throw Error(ErrorCode::kInvalidArgument, "account_id must be a UUID",
                {{"account_id", "must be an account id (UUID)"}});
  }
  auto r =
      db_.WithRetry([&](pg::Connection& c) { return c.Exec(kSelectById, {pg::Text(account_id)}); });
  if (r.Rows() == 0) throw Error(ErrorCode::kNotFound, "no account " + account_id);
  return ReadAccount(r, 0);
}

AccountPage AccountService::List(int page_size, const std::string& page_token) {
  Validator v;
  v.Check(page_size >= 0 && page_size <= 500, "page_size", "must be 0..500 (0 means 100)");
  v.Check(page_token.empty() || events::IsUuid(page_token), "page_token",
          "must be a token returned by a previous call");
  v.ThrowIfInvalid();
  int limit = page_size == 0 ? 100 : page_size;
  std::string after = page_token.empty() ? "00000000-0000-0000-0000-000000000000" : page_token;
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(kSelectPage, {pg::Text(after), pg::Int(limit + 1)});
  });
  AccountPage page;
  for (int i = 0; i < r.Rows() && i < limit; ++i) page.accounts.push_back(ReadAccount(r, i));
  if (r.Rows() > limit) page.next_page_token = page.accounts.back().id;
  return page;
}

void AccountService::ChangePassword(const std::string& account_id, const std::string& old_password,
                                    const std::string& new_password) {
  Validator v;
  v.Check(!old_password.empty(), "old_password", "required");
  v.Check(IsValidPassword(new_password), "new_password", "8-128 characters");
  v.ThrowIfInvalid();
  std::string new_hash = HashPassword(new_password);
  db_.InTransaction([&](pg::Transaction& tx) {
    auto r = tx.Exec(kSelectHashForUpdate, {pg::Text(account_id)});
    if (r.Rows() == 0) throw Error(ErrorCode::kNotFound, "no account " + account_id);
    if (!VerifyPassword(r.Text(0, 0), old_password)) {
      throw Error(ErrorCode::kPermissionDenied, "old password is wrong", {});
    }
    tx.Exec(kUpdateHash, {pg::Text(account_id), pg::Text(new_hash)});
  });
}

LoginResult AccountService::Login(const std::string& login, const std::string& password) {
  Validator v;
  v.Check(!login.empty() && login.size() <= kMaxLogin, "login", "required, at most 64 characters");
  v.Check(!password.empty() && password.size() <= kMaxPassword, "password",
          "required, at most 128 characters");
  v.ThrowIfInvalid();
  auto window = pg::Int(settings_.failure_window.count());
  auto failures = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(kFailuresInWindow, {pg::Text(login), window});
  });
  if (failures.Rows() > 0 && failures.Int(0, 0) >= settings_.max_failures) {
    throw Error(ErrorCode::kResourceExhausted,
                "too many failed logins; try again in " +
                    std::to_string(settings_.failure_window.count() / 60) + " minutes");
  }
  auto r = db_.WithRetry(
      [&](pg::Connection& c) { return c.Exec(kSelectCredentials, {pg::Text(login)}); });
  bool ok;
  Account account;
  if (r.Rows() == 0) {
    VerifyPassword(DummyHash(), password);  // same cost as a wrong password
    ok = false;
  } else {
    account = ReadAccount(r, 0);
    ok = VerifyPassword(r.Text(0, 9), password) && account.active;
  }
  if (!ok) {
    db_.WithRetry([&](pg::Connection& c) { c.Exec(kRecordFailure, {pg::Text(login), window}); });
    throw Error(ErrorCode::kUnauthenticated, kInvalidCredentials);
  }
  if (failures.Rows() > 0) {
    db_.WithRetry([&](pg::Connection& c) { c.Exec(kClearFailures, {pg::Text(login)}); });
  }
  SigningKey key = CurrentKey();
  TokenClaims claims;
  claims.issuer = settings_.issuer;
  claims.audience = settings_.audience;
  claims.subject = account.id;
  claims.role = account.role;
  claims.account_version = account.version;
  claims.issued_at = Clock::now();
  claims.expires_at = claims.issued_at + settings_.token_ttl;
  LoginResult result;
  result.token = SignToken(key, claims);
  result.expires_at = claims.expires_at;
  result.account = account;
  return result;
}

bool AccountService::EnsureAdmin(const std::string& login, const std::string& password) {
  auto r = db_.WithRetry(
      [&](pg::Connection& c) { return c.Exec(kSelectCredentials, {pg::Text(login)}); });
  if (r.Rows() > 0) return false;
  NewAccount admin;
  admin.login = login;
  admin.full_name = "Administrator";
  admin.email = login + "@ates.local";
  admin.role = Role::kAdmin;
  admin.password = password;
  try {
    Create(admin);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kAlreadyExists) return false;  // another replica won
    throw;
  }
  return true;
}

void AccountService::EnsureSigningKey() {
  std::optional<SigningKey> configured;
  if (!settings_.signing_key_seed.empty()) {
    auto seed = Base64UrlDecode(settings_.signing_key_seed);
    if (!seed || seed->size() != 32) {
      throw std::runtime_error("auth.signing_key_seed must be 32 bytes, base64url without padding");
    }
    configured = SigningKey::FromSeed(
        settings_.signing_key_id.empty() ? "configured" : settings_.signing_key_id, *seed);
  }
  db_.InTransaction([&](pg::Transaction& tx) {
    tx.Exec(kKeyLock);
    if (configured) {
      tx.Exec(kInsertKey,
              {pg::Text(configured->kid),
               pg::Bytes(std::string_view(reinterpret_cast<char*>(configured->secret.data()), 64)),
               pg::Bytes(
                   std::string_view(reinterpret_cast<char*>(configured->public_key.data()), 32))});
      return;
    }
    if (tx.Exec(kCurrentKey).Rows() > 0) return;
    auto key = SigningKey::Generate("k-" + events::NewUuid().substr(0, 13));
    tx.Exec(kInsertKey,
            {pg::Text(key.kid),
             pg::Bytes(std::string_view(reinterpret_cast<char*>(key.secret.data()), 64)),
             pg::Bytes(std::string_view(reinterpret_cast<char*>(key.public_key.data()), 32))});
    log::Info("signing key generated", {{"kid", key.kid}});
  });
}

SigningKey AccountService::CurrentKey() {
  std::lock_guard lock(key_mu_);
  auto now = std::chrono::steady_clock::now();
  if (key_ && now - key_loaded_ < std::chrono::seconds(30)) return *key_;
  if (!settings_.signing_key_seed.empty()) {
    auto seed = Base64UrlDecode(settings_.signing_key_seed);
    key_ = SigningKey::FromSeed(
        settings_.signing_key_id.empty() ? "configured" : settings_.signing_key_id, *seed);
  } else {
    auto r = db_.WithRetry([&](pg::Connection& c) { return c.Exec(kCurrentKey); });
    if (r.Rows() == 0) throw Error(ErrorCode::kUnavailable, "no signing key yet");
    SigningKey k;
    k.kid = r.String(0, 0);
    auto secret = r.Bytes(0, 1);
    if (secret.size() != 64) throw std::runtime_error("corrupt signing key " + k.kid);
    std::memcpy(k.secret.data(), secret.data(), 64);
    crypto_sign_ed25519_sk_to_pk(k.public_key.data(), k.secret.data());
    key_ = k;
  }
  key_loaded_ = now;
  return *key_;
}

std::vector<AccountService::PublicKeyInfo> AccountService::ListPublicKeys() {
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(kPublicKeys, {pg::Int(settings_.token_ttl.count())});
  });
  std::vector<PublicKeyInfo> keys;
  for (int i = 0; i < r.Rows(); ++i) {
    keys.push_back({r.String(i, 0), r.Bytes(i, 1), FromEpoch(r.Text(i, 2))});
  }
  return keys;
}

std::map<std::string, std::array<unsigned char, 32>> AccountService::PublicKeys() {
  std::map<std::string, std::array<unsigned char, 32>> out;
  for (const auto& k : ListPublicKeys()) {
    if (k.public_key.size() != 32) continue;
    std::array<unsigned char, 32> raw;
    std::memcpy(raw.data(), k.public_key.data(), 32);
    out[k.kid] = raw;
  }
  return out;
}

}  // namespace ates::auth
