// ates-analytics: admin read models built only from events.
#include "analytics_grpc_service.hpp"
#include "ates/contracts/accounts_replica.hpp"
#include "ates/platform/dates.hpp"
#include "ates/platform/server.hpp"
#include "projections.hpp"

const std::vector<ates::pg::Migration>& AnalyticsMigrations();

int main(int argc, char** argv) {
  std::unique_ptr<ates::analytics::Projections> projections;
  std::unique_ptr<ates::analytics::AnalyticsQueries> queries;
  std::unique_ptr<ates::analytics::AnalyticsGrpcService> service;
  std::unique_ptr<ates::contracts::AccountsReplicaHandler> accounts;
  return ates::platform::RunDaemon("ates-analytics", argc, argv, [&](ates::platform::App& app) {
    auto& cfg = app.config();
    std::string tz = cfg.GetString("business_day.time_zone");
    app.AddMigrations(ates::contracts::AccountsReplicaMigrations());
    app.AddMigrations(AnalyticsMigrations());
    projections = std::make_unique<ates::analytics::Projections>(tz);
    queries = std::make_unique<ates::analytics::AnalyticsQueries>(app.db(), tz);
    service = std::make_unique<ates::analytics::AnalyticsGrpcService>(*queries);
    app.AddService(service.get(), ates::analytics::AnalyticsGrpcService::Policy());
    // The replica only serves token revocation here (ADR 0017).
    auto& states = app.EnableRevocation(ates::platform::ReplicaAccountLoader(app.db()));
    accounts = std::make_unique<ates::contracts::AccountsReplicaHandler>([&] { states.Poke(); });
    for (const char* key : {"accounts", "tasks", "billing", "schedule"}) {
      ates::platform::ConsumerOptions co;
      std::string k = key;
      co.name = cfg.GetString("consumers." + k + ".durable");
      co.stream = k == "accounts"  ? "ACCOUNTS"
                  : k == "tasks"   ? "TASKS"
                  : k == "billing" ? "BILLING"
                                   : "SCHEDULE";
      co.batch_size = static_cast<int>(cfg.GetInt("consumers." + k + ".batch_size"));
      co.max_deliver = static_cast<int>(cfg.GetInt("consumers." + k + ".max_deliver"));
      if (k == "accounts") {
        app.AddConsumer(co, *accounts);
      } else {
        app.AddConsumer(co, *projections);
      }
    }
    // An unknown zone is a configuration error (exit 2), checked once the
    // database answers and before any consumer applies an event.
    app.OnReady([&app, tz] { ates::platform::CheckTimeZone(app.db(), tz); });
  });
}
