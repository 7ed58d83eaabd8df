#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ates/platform/pg.hpp"
#include "ates/platform/token.hpp"
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

struct AuthSettings {
  std::string issuer;
  std::string audience;
  std::chrono::seconds token_ttl{3600};
  int max_failures = 5;  // the next attempt in the window is refused
  std::chrono::seconds failure_window{900};
  std::string signing_key_seed;  // optional base64url 32-byte seed from a Secret
  std::string signing_key_id;
};

// Accounts, credentials and signing keys of ates-auth. Every change commits
// together with its events in the outbox; `on_commit` wakes the relay.
class AccountService final {
 public:
  AccountService(pg::Pool& db, AuthSettings settings, std::function<void()> on_commit);

  Account Create(const NewAccount& request);
  Account Update(const AccountPatch& patch);
  Account Get(const std::string& account_id);
  AccountPage List(int page_size, const std::string& page_token);
  void ChangePassword(const std::string& account_id, const std::string& old_password,
                      const std::string& new_password);
  LoginResult Login(const std::string& login, const std::string& password);

  // Creates the admin unless that login exists. Returns true when it created it.
  bool EnsureAdmin(const std::string& login, const std::string& password);
  // Makes sure a signing key exists (from the configured seed, or generated once).
  void EnsureSigningKey();
  // Public keys that may verify a current token, by kid.
  std::map<std::string, std::array<unsigned char, 32>> PublicKeys();
  struct PublicKeyInfo {
    std::string kid;
    std::string public_key;
    std::chrono::system_clock::time_point created_at;
  };
  std::vector<PublicKeyInfo> ListPublicKeys();

  const AuthSettings& settings() const { return settings_; }

 private:
  SigningKey CurrentKey();

  pg::Pool& db_;
  AuthSettings settings_;
  std::function<void()> on_commit_;
  std::mutex key_mu_;
  std::optional<SigningKey> key_;
  std::chrono::steady_clock::time_point key_loaded_{};
};

}  // namespace ates::auth
