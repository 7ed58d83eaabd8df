#pragma once

#include <memory>

#include "analytics_grpc_service.hpp"
#include "analytics_queries.hpp"
#include "ates/contracts/accounts_replica.hpp"
#include "ates/platform/module.hpp"
#include "projections.hpp"

namespace ates::analytics {

struct AnalyticsSettings {
  std::string time_zone;

  static const platform::ConfigSchema<AnalyticsSettings>& Schema();
};

// ates-analytics: admin read models built only from events.
class AnalyticsModule final : public platform::Module {
 public:
  void Declare(platform::ModuleBuilder& builder) override;
  std::vector<platform::ConfigKey> ConfigKeys() const override;

 private:
  std::unique_ptr<Projections> projections_;
  std::unique_ptr<AnalyticsQueries> queries_;
  std::unique_ptr<AnalyticsGrpcService> service_;
  contracts::AccountsReplica accounts_;
};

}  // namespace ates::analytics
