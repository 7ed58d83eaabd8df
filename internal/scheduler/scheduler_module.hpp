#pragma once

#include <memory>

#include "ates/contracts/accounts_replica.hpp"
#include "ates/platform/module.hpp"
#include "day_closer.hpp"
#include "scheduler_grpc_service.hpp"
#include "scheduler_service.hpp"

namespace prometheus {
class Counter;
class Gauge;
}  // namespace prometheus

namespace ates::scheduler {

// business_day.* and schedule.* in config/ates-scheduler.yaml.
struct SchedulerModuleSettings {
  std::string time_zone;
  std::string first_business_date;
  std::chrono::milliseconds check_interval{0};
  std::chrono::milliseconds max_clock_skew{0};
  std::string now_override;

  static const platform::ConfigSchema<SchedulerModuleSettings>& Schema();
};

// ates-scheduler: the business-day clock; closes each business day exactly once.
class SchedulerModule final : public platform::Module {
 public:
  void Declare(platform::ModuleBuilder& builder) override;
  std::vector<platform::ConfigKey> ConfigKeys() const override;

 private:
  struct Meters {
    prometheus::Counter* closed_automatic = nullptr;
    prometheus::Counter* closed_manual = nullptr;
    prometheus::Gauge* skew = nullptr;
    prometheus::Counter* skew_refusals = nullptr;
    prometheus::Gauge* last_closed_day_end = nullptr;
  };
  static Meters RegisterMeters(platform::Metrics& metrics);
  void ObserveClock(const Meters& meters);
  // Sets ates_scheduler_last_closed_day_end_seconds from the database.
  void ShowLastClosedDay(const Meters& meters);

  std::unique_ptr<SchedulerService> scheduler_;
  std::unique_ptr<SchedulerGrpcService> service_;
  std::unique_ptr<DayCloser> closer_;
  contracts::AccountsReplica accounts_;
};

}  // namespace ates::scheduler
