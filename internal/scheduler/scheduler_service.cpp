#include "scheduler_service.hpp"

#include <google/protobuf/util/time_util.h>

#include <cstdio>

#include "ates/contracts/catalogue.hpp"
#include "ates/events/schedule/v1/schedule_events.pb.h"
#include "ates/platform/error.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/outbox.hpp"

namespace ates::scheduler {
namespace {

using TimePoint = std::chrono::system_clock::time_point;
namespace sv1 = ::ates::events::schedule::v1;

// Both clocks at once: the scheduler's ($1, read just before the statement
// was sent) and PostgreSQL's, each as a date in the business zone, and how far
// apart they are (to within the round trip).
constexpr std::string_view kClocks =
    "SELECT to_char(($1::timestamptz AT TIME ZONE $2)::date, 'YYYY-MM-DD'),"
    " to_char((now() AT TIME ZONE $2)::date, 'YYYY-MM-DD'),"
    " (EXTRACT(EPOCH FROM ($1::timestamptz - now())) * 1000000)::bigint";
constexpr std::string_view kInitCalendar =
    "INSERT INTO business_calendar (id, first_business_date) VALUES (true, $1::date)"
    " ON CONFLICT (id) DO NOTHING";
// A configured first business date wins over the recorded one; the automatic
// pass then walks again from it (days already closed stay as they are).
constexpr std::string_view kSetFirstDate =
    "INSERT INTO business_calendar (id, first_business_date) VALUES (true, $1::date)"
    " ON CONFLICT (id) DO UPDATE SET first_business_date = EXCLUDED.first_business_date,"
    "  closed_through = NULL, updated_at = now()"
    " WHERE business_calendar.first_business_date <> EXCLUDED.first_business_date";
constexpr std::string_view kCalendar =
    "SELECT to_char(first_business_date, 'YYYY-MM-DD'), to_char(closed_through, 'YYYY-MM-DD')"
    " FROM business_calendar WHERE id";
// Every close takes the calendar row first, so closes commit one after another
// and a replica that walks the same days finds each one already there.
constexpr std::string_view kLockCalendar = "SELECT 1 FROM business_calendar WHERE id FOR UPDATE";
// The last word on "never the future" is PostgreSQL's clock, in the statement
// that closes: the automatic pass closes only days before its today, a manual
// close at most its today.
constexpr std::string_view kInsertDay =
    "INSERT INTO closed_days (business_date, event_id, closed_at, manual)"
    " SELECT $1::date, $2::uuid, $3::timestamptz, $4::boolean"
    " WHERE $1::date < (now() AT TIME ZONE $5)::date + CASE WHEN $4::boolean THEN 1 ELSE 0 END"
    " ON CONFLICT (business_date) DO NOTHING RETURNING 1";
constexpr std::string_view kAdvance =
    "UPDATE business_calendar SET closed_through = $1::date, updated_at = now()"
    " WHERE id AND (closed_through IS NULL OR closed_through < $1::date)";
constexpr std::string_view kSelectDay =
    "SELECT to_char(business_date, 'YYYY-MM-DD'), event_id,"
    " (EXTRACT(EPOCH FROM closed_at) * 1000000)::bigint, manual"
    " FROM closed_days WHERE business_date = $1::date";
constexpr std::string_view kListDays =
    "SELECT to_char(business_date, 'YYYY-MM-DD'), event_id,"
    " (EXTRACT(EPOCH FROM closed_at) * 1000000)::bigint, manual"
    " FROM closed_days WHERE ($1::date IS NULL OR business_date < $1::date)"
    " ORDER BY business_date DESC LIMIT $2";

TimePoint Micros(TimePoint tp) {
  return std::chrono::time_point_cast<std::chrono::microseconds>(tp);
}

Date ParseStored(std::string_view text) {
  auto date = ParseDate(text);
  if (!date) {
    throw Error(ErrorCode::kInternal, "unexpected date from the database: " + std::string(text));
  }
  return *date;
}

std::string Seconds(std::chrono::microseconds us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(us.count()) / 1e6);
  return std::string_view(buf) == "-0.000" ? "0.000" : buf;
}

ClosedCycle ReadCycle(const pg::Result& r, int row) {
  ClosedCycle c;
  c.business_date = r.String(row, 0);
  c.event_id = r.String(row, 1);
  c.closed_at = TimePoint(std::chrono::microseconds(r.Int(row, 2)));
  c.manual = r.Bool(row, 3);
  return c;
}

}  // namespace

SchedulerService::SchedulerService(pg::Pool& db, Clock clock, SchedulerSettings settings,
                                   std::function<void(const ClosedCycle&)> on_closed)
    : db_(db),
      clock_(std::move(clock)),
      settings_(std::move(settings)),
      on_closed_(std::move(on_closed)) {}

void SchedulerService::Start() {
  bool configured = !settings_.first_business_date.empty();
  std::string first = configured ? settings_.first_business_date : FormatDate(Today());
  db_.WithRetry([&](pg::Connection& c) {
    c.Exec(configured ? kSetFirstDate : kInitCalendar, {pg::Text(first)});
  });
  auto clocks = ReadClocks();
  auto r = db_.WithRetry([&](pg::Connection& c) { return c.Exec(kCalendar); });
  log::Info("business calendar", {{"today", FormatDate(CurrentDay(clocks))},
                                  {"first_business_date", r.String(0, 0)},
                                  {"closed_through", r.IsNull(0, 1) ? "" : r.String(0, 1)},
                                  {"time_zone", settings_.time_zone},
                                  {"clock_skew_seconds", Seconds(clocks.skew)}});
}

ClockReading SchedulerService::ReadClocks() {
  auto r = db_.WithRetry([&](pg::Connection& c) {
    // The scheduler's clock is read on every attempt, just before sending.
    return c.Exec(kClocks,
                  {pg::Text(events::FormatTimestamp(clock_())), pg::Text(settings_.time_zone)});
  });
  return ClockReading{ParseStored(r.Text(0, 0)), ParseStored(r.Text(0, 1)),
                      std::chrono::microseconds(r.Int(0, 2))};
}

Date SchedulerService::Today() { return CurrentDay(ReadClocks()); }

void SchedulerService::RequireClocksAgree(const ClockReading& clocks) {
  bool skewed = ClockSkewed(clocks, settings_.max_clock_skew);
  if (on_clock_) on_clock_(clocks, skewed);
  std::lock_guard lock(clock_log_mu_);
  if (!skewed) {
    if (skew_reported_) {
      log::Info("clocks agree again; closing business days",
                {{"clock_skew_seconds", Seconds(clocks.skew)}});
    }
    skew_reported_ = false;
    return;
  }
  // The automatic pass runs every few seconds: one line a minute is enough.
  auto now = std::chrono::steady_clock::now();
  if (!skew_reported_ || now - last_skew_log_ >= std::chrono::minutes(1)) {
    log::Error(
        "not closing business days: this scheduler's clock and PostgreSQL's differ by"
        " more than schedule.max_clock_skew",
        {{"clock_skew_seconds", Seconds(clocks.skew)},
         {"max_clock_skew_seconds",
          Seconds(std::chrono::duration_cast<std::chrono::microseconds>(settings_.max_clock_skew))},
         {"clock_today", FormatDate(clocks.clock_today)},
         {"database_today", FormatDate(clocks.database_today)}});
    skew_reported_ = true;
    last_skew_log_ = now;
  }
  throw Error(
      ErrorCode::kFailedPrecondition,
      "not closing: this scheduler's clock differs from PostgreSQL's by " + Seconds(clocks.skew) +
          " s, more than schedule.max_clock_skew (" +
          Seconds(std::chrono::duration_cast<std::chrono::microseconds>(settings_.max_clock_skew)) +
          " s); fix the clock (NTP) of the host that is wrong");
}

int SchedulerService::CloseDueDays(const std::function<bool()>& cancelled) {
  auto clocks = ReadClocks();
  try {
    RequireClocksAgree(clocks);
  } catch (const Error&) {
    return 0;  // refused, logged and counted; the next pass looks again
  }
  auto r = db_.WithRetry([&](pg::Connection& c) { return c.Exec(kCalendar); });
  if (r.Rows() == 0) throw Error(ErrorCode::kFailedPrecondition, "business calendar not started");
  Date today = CurrentDay(clocks);
  Date first = ParseStored(r.Text(0, 0));
  std::optional<Date> closed_through;
  if (!r.IsNull(0, 1)) closed_through = ParseStored(r.Text(0, 1));
  int closed = 0;
  for (Date day : DaysToClose(first, closed_through, today)) {
    if (cancelled && cancelled()) break;
    if (CloseDay(day, false).newly_closed) ++closed;
  }
  return closed;
}

CloseResult SchedulerService::CloseDay(Date day, bool manual) {
  const std::string date = FormatDate(day);
  const TimePoint closed_at = Micros(clock_());
  sv1::BillingCycleClosed body;
  body.set_business_date(date);
  body.set_time_zone(settings_.time_zone);
  *body.mutable_closed_at() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(closed_at.time_since_epoch()).count());
  body.set_manual(manual);
  auto event = contracts::Make(body, date);
  // The same fact always gets the same id, so JetStream and every inbox drop a copy.
  event.id = contracts::BillingCycleClosedId(date);
  event.occurred_at = closed_at;

  CloseResult result = db_.InTransaction([&](pg::Transaction& tx) {
    tx.Exec(kLockCalendar);
    CloseResult out;
    auto inserted = tx.Exec(kInsertDay, {pg::Text(date), pg::Text(event.id),
                                         pg::Text(events::FormatTimestamp(closed_at)),
                                         pg::Bool(manual), pg::Text(settings_.time_zone)});
    if (inserted.Rows() == 1) {
      tx.Exec(platform::OutboxInsert(event));
      out.newly_closed = true;
      out.cycle = ClosedCycle{date, closed_at, manual, event.id};
    } else {
      auto existing = tx.Exec(kSelectDay, {pg::Text(date)});
      if (existing.Rows() == 0) {
        throw Error(ErrorCode::kFailedPrecondition,
                    "business day " + date + " is not over by PostgreSQL's clock; not closing");
      }
      out.cycle = ReadCycle(existing, 0);
    }
    // A day closed by hand does not move the automatic pass: the open days
    // before it must still be closed, oldest first.
    if (!manual) tx.Exec(kAdvance, {pg::Text(date)});
    return out;
  });
  if (result.newly_closed) {
    log::Info("business day closed", {{"business_date", date},
                                      {"event_id", result.cycle.event_id},
                                      {"manual", manual ? "true" : "false"}});
    if (on_closed_) on_closed_(result.cycle);
  }
  return result;
}

CloseResult SchedulerService::Close(const auth::Principal& caller,
                                    const std::string& business_date) {
  if (caller.role != auth::Role::kAdmin) {
    throw Error(ErrorCode::kPermissionDenied, "only an admin may close a business day");
  }
  auto clocks = ReadClocks();
  RequireClocksAgree(clocks);
  Date day = ValidateCloseDate(business_date, CurrentDay(clocks));
  // Closes just this date. Earlier days that are still open are not closed
  // here: the automatic pass closes them, oldest first, on its next run. An
  // operator who closes a later day first has chosen that order.
  auto result = CloseDay(day, true);
  log::Info(result.newly_closed ? "business day closed by hand" : "business day already closed",
            {{"business_date", result.cycle.business_date}, {"account_id", caller.account_id}});
  return result;
}

CyclePage SchedulerService::List(const auth::Principal& caller, int page_size,
                                 const std::string& page_token) {
  if (caller.role != auth::Role::kAdmin && caller.role != auth::Role::kAccountant) {
    throw Error(ErrorCode::kPermissionDenied,
                "only an admin or an accountant may list closed days");
  }
  auto page = ValidatePage(page_size, page_token);
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(kListDays, {page.before ? pg::Text(FormatDate(*page.before)) : pg::Null(),
                              pg::Int(page.limit + 1)});
  });
  CyclePage out;
  for (int i = 0; i < r.Rows() && i < page.limit; ++i) out.cycles.push_back(ReadCycle(r, i));
  if (r.Rows() > page.limit) out.next_page_token = out.cycles.back().business_date;
  return out;
}

}  // namespace ates::scheduler
