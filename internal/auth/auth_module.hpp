#pragma once

#include <memory>

#include "accounts.hpp"
#include "ates/platform/module.hpp"
#include "auth_grpc_service.hpp"
#include "signing_keys.hpp"

namespace ates::auth {

// auth.* (beyond the runtime's token keys) and bootstrap.* in config/ates-auth.yaml.
struct AuthModuleSettings {
  std::string key_encryption_key;
  std::chrono::milliseconds token_ttl{0};
  int login_max_failures = 0;
  int login_max_failures_per_address = 0;
  std::chrono::milliseconds login_failure_window{0};
  int64_t login_concurrency = 0;
  std::chrono::milliseconds signing_key_cache{0};
  std::string signing_key_seed;
  std::string signing_key_id;
  std::string client_address_header;
  std::string admin_login;
  std::string admin_password;

  static const platform::ConfigSchema<AuthModuleSettings>& Schema();
};

// ates-auth: accounts, credentials and token signing keys.
class AuthModule final : public platform::Module {
 public:
  void Declare(platform::ModuleBuilder& builder) override;
  std::vector<platform::ConfigKey> ConfigKeys() const override;

 private:
  // Runs after every committed account change.
  void AfterAccountChange();
  void EnsureKeyAndAdmin();

  AuthModuleSettings settings_;
  platform::OutboxRelay* relay_ = nullptr;
  platform::AccountStates* states_ = nullptr;
  std::unique_ptr<SigningKeyStore> keys_;
  std::unique_ptr<AccountService> accounts_;
  std::unique_ptr<AuthGrpcService> service_;
};

}  // namespace ates::auth
