// AccountService: passwords and tokens (login, change, admin reset).
#include "account_rows.hpp"
#include "accounts.hpp"
#include "ates/platform/error.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/log.hpp"
#include "auth/queries.hpp"
#include "passwords.hpp"

namespace ates::auth {
namespace {

using Clock = std::chrono::system_clock;

const std::string kInvalidCredentials = "invalid login or password";
constexpr std::chrono::seconds kBusyRetry{1};

}  // namespace

std::string AccountService::Hash(const std::string& password) {
  auto permit = gate_.Enter();
  return HashPassword(password);
}

bool AccountService::VerifyOrBusy(const std::string& hash, const std::string& password) {
  auto permit = gate_.TryEnter();
  if (!permit) {
    throw Error(ErrorCode::kResourceExhausted,
                "too many password checks in progress; retry shortly")
        .WithRetryAfter(kBusyRetry);
  }
  return VerifyPassword(hash, password);
}

void AccountService::CheckThrottle(const std::string& login, const std::string& client_address) {
  auto verdict = throttle_.Charge(login, client_address);
  if (!verdict.throttled) return;
  log::Warn("login throttled", {{"reason", verdict.reason},
                                {"retry_after_s", std::to_string(verdict.retry_after.count())}});
  // The delay goes in RetryInfo only: the message is the same for known and
  // unknown logins.
  throw Error(ErrorCode::kResourceExhausted,
              "too many failed logins for this " + verdict.reason + "; retry later")
      .WithRetryAfter(verdict.retry_after);
}

LoginResult AccountService::IssueToken(const Account& account) {
  TokenClaims claims;
  claims.issuer = settings_.issuer;
  claims.audience = settings_.audience;
  claims.subject = account.id;
  claims.role = account.role;
  claims.account_version = account.version;
  claims.issued_at = Clock::now();
  claims.expires_at = claims.issued_at + settings_.token_ttl;
  LoginResult result;
  result.token = SignToken(keys_.Current(), claims);
  result.expires_at = claims.expires_at;
  result.account = account;
  return result;
}

Account AccountService::StorePassword(pg::Transaction& tx, Account account,
                                      const std::string& hash) {
  account.updated_at = rows::Now();
  auto v = tx.Exec(sql::kUpdatePassword, {pg::Text(account.id), pg::Text(hash),
                                          pg::Text(events::FormatTimestamp(account.updated_at))});
  account.version = v.Int(0, 0);
  rows::WriteUpdatedEvent(tx, account);
  return account;
}

LoginResult AccountService::Login(const std::string& login, const std::string& password,
                                  const std::string& client_address) {
  Validator v;
  v.Check(!login.empty() && login.size() <= kMaxLogin, "login", "required, at most 64 characters");
  v.Check(!password.empty() && password.size() <= kMaxPassword, "password",
          "required, at most 128 characters");
  v.ThrowIfInvalid();
  // Refused before any database work when the gate is full: a flood costs
  // neither memory nor connections.
  auto permit = gate_.TryEnter();
  if (!permit) {
    throw Error(ErrorCode::kResourceExhausted, "too many logins in progress; retry shortly")
        .WithRetryAfter(kBusyRetry);
  }
  CheckThrottle(login, client_address);
  auto r = db_.WithRetry(
      [&](pg::Connection& c) { return c.Exec(sql::kSelectCredentialsByLogin, {pg::Text(login)}); });
  bool ok = false;
  Account account;
  if (r.Rows() == 0) {
    VerifyPassword(DummyHash(), password);  // same cost as a wrong password
  } else {
    auto credentials = rows::CredentialsRow::From(r.At(0));
    account = std::move(credentials.account);
    ok = VerifyPassword(credentials.password_hash, password) && account.active;
  }
  permit.reset();
  if (!ok) throw Error(ErrorCode::kUnauthenticated, kInvalidCredentials);
  throttle_.Refund(login, client_address);
  return IssueToken(account);
}

LoginResult AccountService::ChangePassword(const std::string& account_id,
                                           const std::string& old_password,
                                           const std::string& new_password) {
  Validator v;
  v.Check(!old_password.empty() && old_password.size() <= kMaxPassword, "old_password",
          "required, at most 128 characters");
  v.Check(IsValidPassword(new_password), "new_password", "8-128 characters");
  v.ThrowIfInvalid();
  std::string new_hash = Hash(new_password);
  Account after;
  db_.InTransaction([&](pg::Transaction& tx) {
    auto r = tx.Exec(sql::kSelectCredentialsForUpdate, {pg::Text(account_id)});
    if (r.Rows() == 0) throw Error(ErrorCode::kNotFound, "no account " + account_id);
    auto credentials = rows::CredentialsRow::From(r.At(0));
    if (!VerifyOrBusy(credentials.password_hash, old_password)) {
      throw Error(ErrorCode::kPermissionDenied, "old password is wrong");
    }
    after = StorePassword(tx, std::move(credentials.account), new_hash);
  });
  on_commit_();
  log::Info("password changed; older tokens revoked", {{"account_id", account_id}});
  return IssueToken(after);
}

Account AccountService::ResetPassword(const std::string& caller_id, const std::string& account_id,
                                      const std::string& login, const std::string& new_password) {
  Validator v;
  v.Check(account_id.empty() != login.empty(), "account_id",
          "give exactly one of account_id and login");
  v.Check(account_id.empty() || events::IsUuid(account_id), "account_id",
          "must be an account id (UUID)");
  v.Check(IsValidPassword(new_password), "new_password", "8-128 characters");
  v.ThrowIfInvalid();
  std::string new_hash = Hash(new_password);
  Account after;
  db_.InTransaction([&](pg::Transaction& tx) {
    auto r = tx.Exec(sql::kSelectResetTargetForUpdate, {pg::Text(account_id), pg::Text(login)});
    if (r.Rows() == 0) {
      throw Error(ErrorCode::kNotFound, "no account " + (login.empty() ? account_id : login));
    }
    Account target = rows::ReadAccount(r.At(0));
    if (target.id == caller_id) {
      // Without the old password a stolen token could take the account over.
      throw Error(ErrorCode::kPermissionDenied,
                  "an admin changes their own password with ChangePassword (old password "
                  "required)");
    }
    after = StorePassword(tx, target, new_hash);
  });
  on_commit_();
  log::Info("password reset by an admin; older tokens revoked",
            {{"account_id", after.id}, {"admin_id", caller_id}});
  return after;
}

}  // namespace ates::auth
