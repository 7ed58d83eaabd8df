#pragma once

#include <chrono>
#include <functional>
#include <mutex>
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
  static ClosedCycle From(const pg::Row& row);
};

// The business calendar's row: where the automatic pass starts and how far it got.
struct BusinessCalendar {
  Date first_business_date;
  std::optional<Date> closed_through;  // nullopt: the automatic pass closed nothing yet
  static BusinessCalendar From(const pg::Row& row);
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
  // How far the scheduler's clock may be from PostgreSQL's before it refuses to close.
  std::chrono::milliseconds max_clock_skew{std::chrono::seconds(5)};
};

// Told the outcome of every clock check: the reading, and whether closing was
// refused because the clocks differ by more than the bound (for metrics).
using ClockObserver = std::function<void(const ClockReading&, bool refused)>;

// The business-day clock over its database: closes each business date once and
// announces it with schedule.billing_cycle.closed in the same transaction. The
// event id is derived from the date, and the date is the primary key of
// closed_days, so replicas, retries and operators can never emit two closes.
class SchedulerService final {
 public:
  // `on_closed` runs after the commit of every newly closed day (wakes the relay).
  SchedulerService(pg::Pool& db, Clock clock, SchedulerSettings settings,
                   std::function<void(const ClosedCycle&)> on_closed);

  void SetClockObserver(ClockObserver observer) { on_clock_ = std::move(observer); }
  // Records the first business date on the first run (or the configured one).
  void Start();

  // The business day still going on (CurrentDay): by the injected clock, but
  // never later than PostgreSQL's today.
  Date Today();
  // The automatic pass: closes every day owed up to yesterday, oldest first,
  // each in its own transaction. Returns how many days this replica newly closed.
  // Closes nothing (and says so in the log and to the observer) while the
  // clocks differ by more than max_clock_skew.
  // `cancelled` is asked before each day, so a long catch-up stops promptly.
  int CloseDueDays(const std::function<bool()>& cancelled = nullptr);

  CloseResult Close(const auth::Principal& caller, const std::string& business_date);
  CyclePage List(const auth::Principal& caller, int page_size, const std::string& page_token);

  const std::string& time_zone() const { return settings_.time_zone; }
  // Unix time of the midnight (business time zone) that ended the last closed
  // day; before any close, the midnight that began the first business date;
  // nullopt before Start recorded the calendar.
  std::optional<double> LastClosedDayEnd();

 private:
  // Reads both clocks; reports to the observer and the log.
  ClockReading ReadClocks();
  // FAILED_PRECONDITION before Start recorded the calendar.
  BusinessCalendar ReadCalendar();
  // FAILED_PRECONDITION when the clocks differ by more than the bound.
  void RequireClocksAgree(const ClockReading& clocks);
  CloseResult CloseDay(Date day, bool manual);

  pg::Pool& db_;
  Clock clock_;
  SchedulerSettings settings_;
  std::function<void(const ClosedCycle&)> on_closed_;
  ClockObserver on_clock_;
  std::mutex clock_log_mu_;
  bool skew_reported_ = false;  // a refusal was logged and the clocks have not agreed since
  std::chrono::steady_clock::time_point last_skew_log_{};
};

}  // namespace ates::scheduler
