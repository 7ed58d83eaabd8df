// ates-auth: accounts, credentials and token signing keys.
#include <thread>

#include "accounts.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/server.hpp"
#include "auth_grpc_service.hpp"
#include "key_sealer.hpp"
#include "signing_keys.hpp"

const std::vector<ates::pg::Migration>& AuthMigrations();

namespace {

std::chrono::seconds Seconds(std::chrono::milliseconds ms) {
  return std::chrono::duration_cast<std::chrono::seconds>(ms);
}

// Private signing keys are sealed with this key; without it ates-auth does not start.
ates::auth::KeySealer SealerFromConfig(ates::platform::Config& cfg) {
  std::string key = cfg.GetString("auth.key_encryption_key", "");
  if (key.empty()) {
    throw ates::platform::ConfigError(
        "auth.key_encryption_key is required: set ATES_AUTH_KEY_ENCRYPTION_KEY to 32 random"
        " bytes in base64 (openssl rand -base64 32)");
  }
  try {
    return ates::auth::KeySealer::FromBase64(key);
  } catch (const std::invalid_argument& e) {
    throw ates::platform::ConfigError(std::string("auth.key_encryption_key: ") + e.what());
  }
}

ates::auth::AuthSettings SettingsFromConfig(ates::platform::App& app) {
  auto& cfg = app.config();
  ates::auth::AuthSettings s;
  s.issuer = app.verifier().issuer();
  s.audience = app.verifier().audience();
  s.token_ttl = Seconds(cfg.GetDuration("auth.token_ttl"));
  s.throttle.max_failures_per_login = static_cast<int>(cfg.GetInt("auth.login_max_failures"));
  s.throttle.max_failures_per_address =
      static_cast<int>(cfg.GetInt("auth.login_max_failures_per_address"));
  s.throttle.window = Seconds(cfg.GetDuration("auth.login_failure_window"));
  int64_t concurrency = cfg.GetInt("auth.login_concurrency");
  if (concurrency < 0 || concurrency > 1024) {
    throw ates::platform::ConfigError("auth.login_concurrency must be 0 (cores) .. 1024");
  }
  s.login_concurrency = concurrency > 0 ? static_cast<int>(concurrency)
                                        : std::max(1u, std::thread::hardware_concurrency());
  return s;
}

ates::auth::SigningKeySettings KeySettingsFromConfig(ates::platform::Config& cfg) {
  ates::auth::SigningKeySettings k;
  k.token_ttl = Seconds(cfg.GetDuration("auth.token_ttl"));
  k.cache = Seconds(cfg.GetDuration("auth.signing_key_cache"));
  k.seed = cfg.GetString("auth.signing_key_seed", "");
  k.seed_kid = cfg.GetString("auth.signing_key_id", "");
  return k;
}

// Token revocation in ates-auth reads its own accounts table (ADR 0017).
constexpr std::string_view kAccountStatesSince =
    "SELECT id::text, version, active, EXTRACT(EPOCH FROM updated_at)::float8"
    " FROM accounts WHERE updated_at >= to_timestamp($1)";

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<ates::auth::SigningKeyStore> keys;
  std::unique_ptr<ates::auth::AccountService> accounts;
  std::unique_ptr<ates::auth::AuthGrpcService> service;
  return ates::platform::RunDaemon("ates-auth", argc, argv, [&](ates::platform::App& app) {
    auto& cfg = app.config();
    auto settings = SettingsFromConfig(app);
    std::string admin_login = cfg.GetString("bootstrap.admin_login", "");
    std::string admin_password = cfg.GetString("bootstrap.admin_password", "");
    std::string address_header = cfg.GetString("auth.client_address_header", "");

    app.AddMigrations(AuthMigrations());
    keys = std::make_unique<ates::auth::SigningKeyStore>(app.db(), SealerFromConfig(cfg),
                                                         KeySettingsFromConfig(cfg));
    auto& states =
        app.EnableRevocation(ates::platform::QueryAccountLoader(app.db(), kAccountStatesSince));
    accounts =
        std::make_unique<ates::auth::AccountService>(app.db(), settings, *keys, [&app, &states] {
          app.relay().Notify();
          // The change's own RPC returns only once older tokens are refused here.
          try {
            states.Refresh();
          } catch (const std::exception&) {
            states.Poke();  // the database just answered; the refresher retries
          }
        });
    service = std::make_unique<ates::auth::AuthGrpcService>(*accounts, address_header);
    app.AddService(service.get(), ates::auth::AuthGrpcService::Policy());
    app.SetKeyLoader([&] { return keys->PublicKeys(); });
    ates::log::Info("login limits", {{"concurrency", std::to_string(settings.login_concurrency)}});
    app.OnReady([&, admin_login, admin_password] {
      keys->EnsureKey();
      if (!admin_login.empty() && !admin_password.empty()) {
        if (accounts->EnsureAdmin(admin_login, admin_password)) {
          ates::log::Info("first admin created", {{"login", admin_login}});
        }
      }
    });
  });
}
