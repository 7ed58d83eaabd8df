#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ates/platform/pg.hpp"
#include "ates/platform/token.hpp"
#include "login_throttle.hpp"
#include "password_gate.hpp"
#include "signing_keys.hpp"
#include "validation.hpp"

namespace ates::auth {

struct Account {
  std::string id;
  std::string login;
  std::string full_name;
  std::string email;
  Role role = Role::kUnspecified;
  bool active = true;
  int64_t version = 0;
  std::chrono::system_clock::time_point created_at;
  std::chrono::system_clock::time_point updated_at;
};

struct AccountPage {
  std::vector<Account> accounts;
  std::string next_page_token;
};

struct LoginResult {
  std::string token;
  std::chrono::system_clock::time_point expires_at;
  Account account;
};

// What decides whether a token of the account is still good: it must have
// been issued at `version` (claim "ver") and the account must be active.
struct AccountStanding {
  int64_t version = 0;
  bool active = false;
  Role role = Role::kUnspecified;
};

struct AuthSettings {
  std::string issuer;
  std::string audience;
  std::chrono::seconds token_ttl{3600};
  LoginThrottleSettings throttle;
  int login_concurrency = 2;  // Argon2 checks at once; beyond: RESOURCE_EXHAUSTED
};

// Accounts and credentials of ates-auth. Every change commits together with
// its events in the outbox; `on_commit` wakes the relay. A change that must
// revoke the account's tokens (role, active flag, password) bumps its version
// and emits accounts.account.updated with the full state.
class AccountService final {
 public:
  AccountService(pg::Pool& db, AuthSettings settings, SigningKeyStore& keys,
                 std::function<void()> on_commit);

  Account Create(const NewAccount& request);
  // `caller_id`: the admin making the change, who may not change their own
  // role or active flag (an old token must not restore its own account).
  Account Update(const AccountPatch& patch, const std::string& caller_id = "");
  Account Get(const std::string& account_id);
  AccountPage List(int page_size, const std::string& page_token);
  // The caller's own password; returns a fresh token (the older ones are revoked).
  LoginResult ChangePassword(const std::string& account_id, const std::string& old_password,
                             const std::string& new_password);
  // An admin sets another account's password (by id or login).
  Account ResetPassword(const std::string& caller_id, const std::string& account_id,
                        const std::string& login, const std::string& new_password);
  // `client_address` is the caller's network address, throttled like the login.
  LoginResult Login(const std::string& login, const std::string& password,
                    const std::string& client_address = "unknown");
  // Version and active flag from ates-auth's own table (for its token checks);
  // nullopt when the account does not exist.
  std::optional<AccountStanding> Standing(const std::string& account_id);

  // Creates the admin unless that login exists. Returns true when it created it.
  bool EnsureAdmin(const std::string& login, const std::string& password);

  const AuthSettings& settings() const { return settings_; }
  SigningKeyStore& keys() { return keys_; }

 private:
  std::string Hash(const std::string& password);
  bool VerifyOrBusy(const std::string& hash, const std::string& password);
  void CheckThrottle(const std::string& login, const std::string& client_address);
  LoginResult IssueToken(const Account& account);
  // Sets the hash, bumps the version and writes accounts.account.updated.
  Account StorePassword(pg::Transaction& tx, Account account, const std::string& hash);

  pg::Pool& db_;
  AuthSettings settings_;
  SigningKeyStore& keys_;
  std::function<void()> on_commit_;
  PasswordGate gate_;
  LoginThrottle throttle_;
};

}  // namespace ates::auth
