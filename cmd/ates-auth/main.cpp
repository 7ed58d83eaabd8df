// ates-auth: accounts, credentials and token signing keys.
#include "accounts.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/server.hpp"
#include "auth_grpc_service.hpp"

const std::vector<ates::pg::Migration>& AuthMigrations();

namespace {

// Token revocation in ates-auth reads its own accounts table (ADR 0017).
constexpr std::string_view kAccountStatesSince =
    "SELECT id::text, version, active, EXTRACT(EPOCH FROM updated_at)::float8"
    " FROM accounts WHERE updated_at >= to_timestamp($1)";

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<ates::auth::AccountService> accounts;
  std::unique_ptr<ates::auth::AuthGrpcService> service;
  return ates::platform::RunDaemon("ates-auth", argc, argv, [&](ates::platform::App& app) {
    auto& cfg = app.config();
    ates::auth::AuthSettings s;
    s.issuer = app.verifier().issuer();
    s.audience = app.verifier().audience();
    s.token_ttl =
        std::chrono::duration_cast<std::chrono::seconds>(cfg.GetDuration("auth.token_ttl"));
    s.max_failures = static_cast<int>(cfg.GetInt("auth.login_max_failures"));
    s.failure_window = std::chrono::duration_cast<std::chrono::seconds>(
        cfg.GetDuration("auth.login_failure_window"));
    s.signing_key_seed = cfg.GetString("auth.signing_key_seed", "");
    s.signing_key_id = cfg.GetString("auth.signing_key_id", "");
    std::string admin_login = cfg.GetString("bootstrap.admin_login", "");
    std::string admin_password = cfg.GetString("bootstrap.admin_password", "");

    app.AddMigrations(AuthMigrations());
    auto& states =
        app.EnableRevocation(ates::platform::QueryAccountLoader(app.db(), kAccountStatesSince));
    accounts = std::make_unique<ates::auth::AccountService>(app.db(), s, [&app, &states] {
      app.relay().Notify();
      // The change's own RPC returns only once older tokens are refused here.
      try {
        states.Refresh();
      } catch (const std::exception&) {
        states.Poke();  // the database just answered; the refresher retries
      }
    });
    service = std::make_unique<ates::auth::AuthGrpcService>(*accounts);
    app.AddService(service.get(), ates::auth::AuthGrpcService::Policy());
    app.SetKeyLoader([&] { return accounts->PublicKeys(); });
    app.OnReady([&, admin_login, admin_password] {
      accounts->EnsureSigningKey();
      if (!admin_login.empty() && !admin_password.empty()) {
        if (accounts->EnsureAdmin(admin_login, admin_password)) {
          ates::log::Info("first admin created", {{"login", admin_login}});
        }
      }
    });
  });
}
