#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ates/platform/pg.hpp"
#include "ates/platform/token.hpp"
#include "business_days.hpp"

namespace ates::scheduler {

// Where "now" comes from: the system clock in production, a fixed instant in tests.
using Clock = std::function<std::chrono::system_clock::time_point()>;

struct ClosedCycle {
  std::string business_date;  // "YYYY-MM-DD"
  std::chrono::system_clock::time_point closed_at;
  bool manual = false;
  std::string event_id;  // the schedule.billing_cycle.closed event, derived from the date
};

struct CloseResult {
  ClosedCycle cycle;
  bool newly_closed = false;
};

struct CyclePage {
  std::vector<ClosedCycle> cycles;
  std::string next_page_token;
};

struct SchedulerSettings {
  std::string time_zone = "UTC";    // IANA name; PostgreSQL turns instants into dates in it
  std::string first_business_date;  // "YYYY-MM-DD"; "" = the day of the first run
};

// The business-day clock over its database: closes each business date once and
// announces it with schedule.billing_cycle.closed in the same transaction. The
// event id is derived from the date, and the date is the primary key of
// closed_days, so replicas, retries and operators can never emit two closes.
class SchedulerService final {
 public:
  // `on_closed` runs after the commit of every newly closed day (wakes the relay).
  SchedulerService(pg::Pool& db, Clock clock, SchedulerSettings settings,
                   std::function<void(const ClosedCycle&)> on_closed);

  // INVALID_ARGUMENT naming business_day.time_zone when PostgreSQL does not know
  // the zone. One attempt: a PgError with connection_lost() when the database is away.
  void CheckTimeZone();
  // Records the first business date on the first run (or the configured one).
  void Start();

  // Today in the business time zone, by the injected clock.
  Date Today();
  // The automatic pass: closes every day owed up to yesterday, oldest first,
  // each in its own transaction. Returns how many days this replica newly closed.
  // `cancelled` is asked before each day, so a long catch-up stops promptly.
  int CloseDueDays(const std::function<bool()>& cancelled = nullptr);

  CloseResult Close(const auth::Principal& caller, const std::string& business_date);
  CyclePage List(const auth::Principal& caller, int page_size, const std::string& page_token);

  const std::string& time_zone() const { return settings_.time_zone; }

 private:
  CloseResult CloseDay(Date day, bool manual);

  pg::Pool& db_;
  Clock clock_;
  SchedulerSettings settings_;
  std::function<void(const ClosedCycle&)> on_closed_;
};

}  // namespace ates::scheduler
