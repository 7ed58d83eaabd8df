#include "auth_module.hpp"

#include <thread>

#include "ates/platform/log.hpp"
#include "key_sealer.hpp"

const std::vector<ates::pg::Migration>& AuthMigrations();

namespace ates::auth {
namespace {

using platform::ConfigError;

std::chrono::seconds Seconds(std::chrono::milliseconds ms) {
  return std::chrono::duration_cast<std::chrono::seconds>(ms);
}

// Private signing keys are sealed with this key; without it ates-auth does not start.
KeySealer SealerFrom(const std::string& key) {
  if (key.empty()) {
    throw ConfigError(
        "auth.key_encryption_key is required: set ATES_AUTH_KEY_ENCRYPTION_KEY to 32 random"
        " bytes in base64 (openssl rand -base64 32)");
  }
  try {
    return KeySealer::FromBase64(key);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("auth.key_encryption_key: ") + e.what());
  }
}

AuthSettings AccountSettings(const AuthModuleSettings& m, const auth::TokenVerifier& verifier) {
  AuthSettings s;
  s.issuer = verifier.issuer();
  s.audience = verifier.audience();
  s.token_ttl = Seconds(m.token_ttl);
  s.throttle.max_failures_per_login = m.login_max_failures;
  s.throttle.max_failures_per_address = m.login_max_failures_per_address;
  s.throttle.window = Seconds(m.login_failure_window);
  if (m.login_concurrency < 0 || m.login_concurrency > 1024) {
    throw ConfigError("auth.login_concurrency must be 0 (cores) .. 1024");
  }
  s.login_concurrency = m.login_concurrency > 0 ? static_cast<int>(m.login_concurrency)
                                                : std::max(1u, std::thread::hardware_concurrency());
  return s;
}

SigningKeySettings KeySettings(const AuthModuleSettings& m) {
  SigningKeySettings k;
  k.token_ttl = Seconds(m.token_ttl);
  k.cache = Seconds(m.signing_key_cache);
  k.seed = m.signing_key_seed;
  k.seed_kid = m.signing_key_id;
  return k;
}

// Token revocation in ates-auth reads its own accounts table (ADR 0017).
constexpr std::string_view kAccountStatesSince =
    "SELECT id::text, version, active, EXTRACT(EPOCH FROM updated_at)::float8"
    " FROM accounts WHERE updated_at >= to_timestamp($1)";

}  // namespace

const platform::ConfigSchema<AuthModuleSettings>& AuthModuleSettings::Schema() {
  using S = AuthModuleSettings;
  static const auto schema =
      platform::ConfigSchema<S>()
          .Key("auth.key_encryption_key", &S::key_encryption_key, "",
               "seals private signing keys: 32 random bytes in base64 (required; a secret)")
          .Required("auth.token_ttl", &S::token_ttl, "lifetime of an issued token")
          .Required("auth.login_max_failures", &S::login_max_failures,
                    "failed logins per login within the window before refusals")
          .Required("auth.login_max_failures_per_address", &S::login_max_failures_per_address,
                    "failed logins per client address within the window")
          .Required("auth.login_failure_window", &S::login_failure_window,
                    "window of the failed-login counters")
          .Required("auth.login_concurrency", &S::login_concurrency,
                    "password checks at once; 0: one per core")
          .Required("auth.signing_key_cache", &S::signing_key_cache,
                    "how long a replica signs with the key it read")
          .Key("auth.signing_key_seed", &S::signing_key_seed, "",
               "base64url 32-byte seed of a first key (a secret)")
          .Key("auth.signing_key_id", &S::signing_key_id, "", "kid of that first key")
          .Key("auth.client_address_header", &S::client_address_header, "",
               "metadata header with the client address set by a trusted proxy")
          .Key("bootstrap.admin_login", &S::admin_login, "", "first admin created at start")
          .Key("bootstrap.admin_password", &S::admin_password, "", "its password (a secret)");
  return schema;
}

std::vector<platform::ConfigKey> AuthModule::ConfigKeys() const {
  return AuthModuleSettings::Schema().keys();
}

void AuthModule::AfterAccountChange() {
  relay_->Notify();
  // The change's own RPC returns only once older tokens are refused here.
  try {
    states_->Refresh();
  } catch (const std::exception&) {
    states_->Poke();  // the database just answered; the refresher retries
  }
}

void AuthModule::EnsureKeyAndAdmin() {
  keys_->EnsureKey();
  const auto& login = settings_.admin_login;
  if (!login.empty() && !settings_.admin_password.empty()) {
    if (accounts_->EnsureAdmin(login, settings_.admin_password)) {
      log::Info("first admin created", {{"login", login}});
    }
  }
}

void AuthModule::Declare(platform::ModuleBuilder& builder) {
  settings_ = builder.Settings(AuthModuleSettings::Schema());
  auto account_settings = AccountSettings(settings_, builder.verifier());
  builder.Migrations(AuthMigrations());
  keys_ = std::make_unique<SigningKeyStore>(builder.db(), SealerFrom(settings_.key_encryption_key),
                                            KeySettings(settings_));
  relay_ = &builder.relay();
  states_ =
      &builder.RevokeTokensFrom(platform::QueryAccountLoader(builder.db(), kAccountStatesSince));
  accounts_ = std::make_unique<AccountService>(builder.db(), account_settings, *keys_,
                                               [this] { AfterAccountChange(); });
  service_ = std::make_unique<AuthGrpcService>(*accounts_, settings_.client_address_header);
  builder.Service(*service_, AuthGrpcService::Policy());
  builder.VerificationKeys([this] { return keys_->PublicKeys(); });
  log::Info("login limits", {{"concurrency", std::to_string(account_settings.login_concurrency)}});
  builder.OnReady([this] { EnsureKeyAndAdmin(); });
}

}  // namespace ates::auth
