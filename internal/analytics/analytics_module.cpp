#include "analytics_module.hpp"

#include "ates/platform/dates.hpp"

const std::vector<ates::pg::Migration>& AnalyticsMigrations();

namespace ates::analytics {

const platform::ConfigSchema<AnalyticsSettings>& AnalyticsSettings::Schema() {
  static const auto schema = platform::ConfigSchema<AnalyticsSettings>().Required(
      "business_day.time_zone", &AnalyticsSettings::time_zone,
      "IANA zone of the business day (e.g. Europe/Berlin)");
  return schema;
}

std::vector<platform::ConfigKey> AnalyticsModule::ConfigKeys() const {
  return platform::WithConsumerKeys(AnalyticsSettings::Schema().keys(),
                                    {"accounts", "tasks", "billing", "schedule"});
}

void AnalyticsModule::Declare(platform::ModuleBuilder& builder) {
  auto s = builder.Settings(AnalyticsSettings::Schema());
  // The replica only serves token revocation here (ADR 0017).
  accounts_.Declare(builder);
  builder.Migrations(AnalyticsMigrations());
  projections_ = std::make_unique<Projections>(s.time_zone);
  queries_ = std::make_unique<AnalyticsQueries>(builder.db(), s.time_zone);
  service_ = std::make_unique<AnalyticsGrpcService>(*queries_);
  builder.Service(*service_, AnalyticsGrpcService::Policy());
  builder.Consume("tasks", "TASKS", *projections_);
  builder.Consume("billing", "BILLING", *projections_);
  builder.Consume("schedule", "SCHEDULE", *projections_);
  // An unknown zone is a configuration error (exit 2), checked once the
  // database answers and before any consumer applies an event.
  auto& db = builder.db();
  builder.OnReady([&db, tz = s.time_zone] { platform::CheckTimeZone(db, tz); });
}

}  // namespace ates::analytics
