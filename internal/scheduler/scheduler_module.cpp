#include "scheduler_module.hpp"

#include <google/protobuf/util/time_util.h>

#include "ates/platform/dates.hpp"
#include "ates/platform/log.hpp"

const std::vector<ates::pg::Migration>& SchedulerMigrations();

namespace ates::scheduler {
namespace {

using platform::ConfigError;

// The system clock, or the fixed instant schedule.now_override (RFC 3339) so a
// test can stand on any day, e.g. a few days after the first business date.
Clock MakeClock(const std::string& now_override) {
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

SchedulerSettings Checked(const SchedulerModuleSettings& m) {
  SchedulerSettings s;
  s.time_zone = m.time_zone;
  s.first_business_date = m.first_business_date;
  if (!s.first_business_date.empty() && !ParseDate(s.first_business_date)) {
    throw ConfigError(
        "config key 'schedule.first_business_date' must be a date as YYYY-MM-DD,"
        " got '" +
        s.first_business_date + "'");
  }
  if (m.check_interval.count() <= 0) {
    throw ConfigError("config key 'schedule.check_interval' must be > 0");
  }
  s.max_clock_skew = m.max_clock_skew;
  if (s.max_clock_skew.count() <= 0) {
    throw ConfigError("config key 'schedule.max_clock_skew' must be > 0");
  }
  return s;
}

}  // namespace

const platform::ConfigSchema<SchedulerModuleSettings>& SchedulerModuleSettings::Schema() {
  using S = SchedulerModuleSettings;
  static const auto schema =
      platform::ConfigSchema<S>()
          .Key("business_day.time_zone", &S::time_zone, "UTC", "IANA zone of the business day")
          .Key("schedule.first_business_date", &S::first_business_date, "",
               "YYYY-MM-DD; empty: the day of the first run")
          .Key("schedule.check_interval", &S::check_interval, "5s",
               "how often the automatic pass looks for days that are over")
          .Key("schedule.max_clock_skew", &S::max_clock_skew, "5s",
               "closing is refused while this clock and PostgreSQL's differ more")
          .Key("schedule.now_override", &S::now_override, "",
               "a fixed RFC 3339 instant as now (tests); empty: the system clock");
  return schema;
}

std::vector<platform::ConfigKey> SchedulerModule::ConfigKeys() const {
  return platform::WithConsumerKeys(SchedulerModuleSettings::Schema().keys(), {"accounts"});
}

SchedulerModule::Meters SchedulerModule::RegisterMeters(platform::Metrics& metrics) {
  auto& registry = metrics.registry();
  Meters m;
  auto& closed = prometheus::BuildCounter()
                     .Name("ates_scheduler_days_closed_total")
                     .Help("Business days this replica closed (and announced)")
                     .Register(registry);
  m.closed_automatic = &closed.Add({{"trigger", "automatic"}});
  m.closed_manual = &closed.Add({{"trigger", "manual"}});
  m.skew = &prometheus::BuildGauge()
                .Name("ates_scheduler_clock_skew_seconds")
                .Help("This scheduler's clock minus PostgreSQL's, at the last check")
                .Register(registry)
                .Add({});
  m.skew_refusals =
      &prometheus::BuildCounter()
           .Name("ates_scheduler_close_refusals_total")
           .Help("Closing passes and CloseBillingCycle calls refused because the clocks differ")
           .Register(registry)
           .Add({{"reason", "clock_skew"}});
  m.last_closed_day_end =
      &prometheus::BuildGauge()
           .Name("ates_scheduler_last_closed_day_end_seconds")
           .Help(
               "Unix time of the midnight (business time zone) that ended the last closed"
               " business day; before any close, the one that began the first business date")
           .Register(registry)
           .Add({});
  return m;
}

void SchedulerModule::ShowLastClosedDay(const Meters& meters) {
  try {
    if (auto end = scheduler_->LastClosedDayEnd()) meters.last_closed_day_end->Set(*end);
  } catch (const std::exception& e) {
    // A gauge never fails a close; the next close or start sets it.
    log::Warn("cannot read the last closed day for its gauge", {{"error", e.what()}});
  }
}

void SchedulerModule::ObserveClock(const Meters& meters) {
  scheduler_->SetClockObserver([meters](const ClockReading& clocks, bool refused) {
    meters.skew->Set(static_cast<double>(clocks.skew.count()) / 1e6);
    if (refused) meters.skew_refusals->Increment();
  });
}

void SchedulerModule::Declare(platform::ModuleBuilder& builder) {
  auto m = builder.Settings(SchedulerModuleSettings::Schema());
  auto settings = Checked(m);
  auto clock = MakeClock(m.now_override);
  Meters meters = RegisterMeters(builder.metrics());

  builder.Migrations(SchedulerMigrations());
  auto& relay = builder.relay();
  scheduler_ = std::make_unique<SchedulerService>(
      builder.db(), clock, settings, [this, meters, &relay](const ClosedCycle& c) {
        (c.manual ? meters.closed_manual : meters.closed_automatic)->Increment();
        relay.Notify();
        ShowLastClosedDay(meters);
      });
  ObserveClock(meters);
  service_ = std::make_unique<SchedulerGrpcService>(*scheduler_);
  builder.Service(*service_, SchedulerGrpcService::Policy());
  // The scheduler keeps an accounts replica only for token revocation (ADR 0017).
  accounts_.Declare(builder);
  closer_ = std::make_unique<DayCloser>(*scheduler_, m.check_interval);

  auto& db = builder.db();
  builder.OnReady([this, &db, meters, tz = settings.time_zone] {
    // An unknown zone is a configuration error (exit 2), checked once the
    // database answers.
    platform::CheckTimeZone(db, tz);
    scheduler_->Start();
    // Missed days are closed (oldest first) before the daemon reports ready.
    scheduler_->CloseDueDays();
    ShowLastClosedDay(meters);
  });
  builder.Background("day-closer", [this](platform::Worker& worker, std::stop_token stop) {
    closer_->Run(worker, stop);
  });
}

}  // namespace ates::scheduler
