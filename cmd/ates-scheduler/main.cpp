// ates-scheduler: the business-day clock; closes each business day exactly once.
#include <google/protobuf/util/time_util.h>

#include "ates/contracts/accounts_replica.hpp"
#include "ates/platform/dates.hpp"
#include "ates/platform/server.hpp"
#include "day_closer.hpp"
#include "scheduler_grpc_service.hpp"

const std::vector<ates::pg::Migration>& SchedulerMigrations();

namespace {

using ates::platform::ConfigError;

// The system clock, or the fixed instant schedule.now_override (RFC 3339) so a
// test can stand on any day, e.g. a few days after the first business date.
ates::scheduler::Clock MakeClock(const std::string& now_override) {
  if (now_override.empty()) return [] { return std::chrono::system_clock::now(); };
  google::protobuf::Timestamp ts;
  if (!google::protobuf::util::TimeUtil::FromString(now_override, &ts)) {
    throw ConfigError(
        "config key 'schedule.now_override' must be an RFC 3339 time such as"
        " 2026-03-10T08:00:00Z, got '" +
        now_override + "'");
  }
  auto now = std::chrono::system_clock::time_point(
      std::chrono::microseconds(google::protobuf::util::TimeUtil::TimestampToMicroseconds(ts)));
  return [now] { return now; };
}

// The scheduler keeps an accounts replica only for token revocation (ADR 0017).
std::unique_ptr<ates::contracts::AccountsReplicaHandler> AddAccountsReplica(
    ates::platform::App& app) {
  auto& cfg = app.config();
  app.AddMigrations(ates::contracts::AccountsReplicaMigrations());
  auto& states = app.EnableRevocation(ates::platform::ReplicaAccountLoader(app.db()));
  auto handler =
      std::make_unique<ates::contracts::AccountsReplicaHandler>([&states] { states.Poke(); });
  ates::platform::ConsumerOptions co;
  co.name = cfg.GetString("consumers.accounts.durable");
  co.stream = "ACCOUNTS";
  co.batch_size = static_cast<int>(cfg.GetInt("consumers.accounts.batch_size"));
  co.max_deliver = static_cast<int>(cfg.GetInt("consumers.accounts.max_deliver"));
  app.AddConsumer(co, *handler);
  return handler;
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<ates::scheduler::SchedulerService> scheduler;
  std::unique_ptr<ates::scheduler::SchedulerGrpcService> service;
  std::unique_ptr<ates::scheduler::DayCloser> closer;
  std::unique_ptr<ates::contracts::AccountsReplicaHandler> accounts;
  return ates::platform::RunDaemon("ates-scheduler", argc, argv, [&](ates::platform::App& app) {
    auto& cfg = app.config();
    ates::scheduler::SchedulerSettings s;
    s.time_zone = cfg.GetString("business_day.time_zone", "UTC");
    s.first_business_date = cfg.GetString("schedule.first_business_date", "");
    if (!s.first_business_date.empty() && !ates::scheduler::ParseDate(s.first_business_date)) {
      throw ConfigError(
          "config key 'schedule.first_business_date' must be a date as YYYY-MM-DD,"
          " got '" +
          s.first_business_date + "'");
    }
    auto interval = cfg.GetDuration("schedule.check_interval", std::chrono::seconds(5));
    if (interval.count() <= 0) {
      throw ConfigError("config key 'schedule.check_interval' must be > 0");
    }
    s.max_clock_skew = cfg.GetDuration("schedule.max_clock_skew", std::chrono::seconds(5));
    if (s.max_clock_skew.count() <= 0) {
      throw ConfigError("config key 'schedule.max_clock_skew' must be > 0");
    }
    auto clock = MakeClock(cfg.GetString("schedule.now_override", ""));

    auto& closed_total = prometheus::BuildCounter()
                             .Name("ates_scheduler_days_closed_total")
                             .Help("Business days this replica closed (and announced)")
                             .Register(app.metrics().registry());
    auto* closed_automatic = &closed_total.Add({{"trigger", "automatic"}});
    auto* closed_manual = &closed_total.Add({{"trigger", "manual"}});
    auto* skew_gauge = &prometheus::BuildGauge()
                            .Name("ates_scheduler_clock_skew_seconds")
                            .Help("This scheduler's clock minus PostgreSQL's, at the last check")
                            .Register(app.metrics().registry())
                            .Add({});
    auto* skew_refusals =
        &prometheus::BuildCounter()
             .Name("ates_scheduler_close_refusals_total")
             .Help("Closing passes and CloseBillingCycle calls refused because the clocks differ")
             .Register(app.metrics().registry())
             .Add({{"reason", "clock_skew"}});

    app.AddMigrations(SchedulerMigrations());
    scheduler = std::make_unique<ates::scheduler::SchedulerService>(
        app.db(), clock, s,
        [&app, closed_automatic, closed_manual](const ates::scheduler::ClosedCycle& c) {
          (c.manual ? closed_manual : closed_automatic)->Increment();
          app.relay().Notify();
        });
    scheduler->SetClockObserver(
        [skew_gauge, skew_refusals](const ates::scheduler::ClockReading& clocks, bool refused) {
          skew_gauge->Set(static_cast<double>(clocks.skew.count()) / 1e6);
          if (refused) skew_refusals->Increment();
        });
    service = std::make_unique<ates::scheduler::SchedulerGrpcService>(*scheduler);
    app.AddService(service.get(), ates::scheduler::SchedulerGrpcService::Policy());
    accounts = AddAccountsReplica(app);
    closer = std::make_unique<ates::scheduler::DayCloser>(*scheduler, interval);

    app.OnReady([&, tz = s.time_zone] {
      // An unknown zone is a configuration error (exit 2), checked once the
      // database answers.
      ates::platform::CheckTimeZone(app.db(), tz);
      scheduler->Start();
      // Missed days are closed (oldest first) before the daemon reports ready.
      scheduler->CloseDueDays();
      closer->Start();
    });
    app.OnStop([&] { closer->Stop(); });
  });
}
