#include "scheduler_service.hpp"

#include <google/protobuf/util/time_util.h>

#include <cstdio>

#include "ates/contracts/catalogue.hpp"
#include "ates/events/schedule/v1/schedule_events.pb.h"
#include "ates/platform/error.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/outbox.hpp"
#include "ates/platform/timestamps.hpp"
#include "scheduler/queries.hpp"

namespace ates::scheduler {
namespace {

using TimePoint = std::chrono::system_clock::time_point;
namespace sv1 = ::ates::events::schedule::v1;

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

ClockReading ClocksFrom(const pg::Row& row) {
  return {ParseStored(row.Text("clock_today")), ParseStored(row.Text("database_today")),
          std::chrono::microseconds(row.Int("skew_us"))};
}

}  // namespace

BusinessCalendar BusinessCalendar::From(const pg::Row& row) {
  auto closed = row.OptionalString("closed_through");
  return {ParseStored(row.Text("first_business_date")),
          closed ? std::optional(ParseStored(*closed)) : std::nullopt};
}

ClosedCycle ClosedCycle::From(const pg::Row& row) {
  return {row.String("business_date"), platform::FromEpochText(row.Text("closed_at")),
          row.Bool("manual"), row.String("event_id")};
}

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
    c.Exec(configured ? sql::kSetFirstBusinessDate : sql::kInitCalendar, {pg::Text(first)});
  });
  auto clocks = ReadClocks();
  auto calendar = ReadCalendar();
  log::Info(
      "business calendar",
      {{"today", FormatDate(CurrentDay(clocks))},
       {"first_business_date", FormatDate(calendar.first_business_date)},
       {"closed_through", calendar.closed_through ? FormatDate(*calendar.closed_through) : ""},
       {"time_zone", settings_.time_zone},
       {"clock_skew_seconds", Seconds(clocks.skew)}});
}

ClockReading SchedulerService::ReadClocks() {
  auto r = db_.WithRetry([&](pg::Connection& c) {
    // The scheduler's clock is read on every attempt, just before sending.
    return c.Exec(sql::kSelectClocks,
                  {pg::Text(events::FormatTimestamp(clock_())), pg::Text(settings_.time_zone)});
  });
  return ClocksFrom(r.At(0));
}

BusinessCalendar SchedulerService::ReadCalendar() {
  auto r = db_.WithRetry([&](pg::Connection& c) { return c.Exec(sql::kSelectCalendar); });
  if (r.Rows() == 0) throw Error(ErrorCode::kFailedPrecondition, "business calendar not started");
  return BusinessCalendar::From(r.At(0));
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
  auto calendar = ReadCalendar();
  int closed = 0;
  for (Date day :
       DaysToClose(calendar.first_business_date, calendar.closed_through, CurrentDay(clocks))) {
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
    tx.Exec(sql::kLockCalendar);
    CloseResult out;
    auto inserted =
        tx.Exec(sql::kInsertClosedDay,
                {pg::Text(date), pg::Text(event.id), pg::Text(events::FormatTimestamp(closed_at)),
                 pg::Bool(manual), pg::Text(settings_.time_zone)});
    if (inserted.Rows() == 1) {
      tx.Exec(platform::OutboxInsert(event));
      out.newly_closed = true;
      out.cycle = ClosedCycle{date, closed_at, manual, event.id};
    } else {
      auto existing = tx.Exec(sql::kSelectClosedDay, {pg::Text(date)});
      if (existing.Rows() == 0) {
        throw Error(ErrorCode::kFailedPrecondition,
                    "business day " + date + " is not over by PostgreSQL's clock; not closing");
      }
      out.cycle = ClosedCycle::From(existing.At(0));
    }
    // A day closed by hand does not move the automatic pass: the open days
    // before it must still be closed, oldest first.
    if (!manual) tx.Exec(sql::kAdvanceClosedThrough, {pg::Text(date)});
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
    return c.Exec(
        sql::kSelectClosedDays,
        {page.before ? pg::Text(FormatDate(*page.before)) : pg::Null(), pg::Int(page.limit + 1)});
  });
  CyclePage out;
  for (int i = 0; i < r.Rows() && i < page.limit; ++i)
    out.cycles.push_back(ClosedCycle::From(r.At(i)));
  if (r.Rows() > page.limit)
    out.next_page_token = page.tokens.NextToken(out.cycles.back().business_date);
  return out;
}

std::optional<double> SchedulerService::LastClosedDayEnd() {
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(sql::kLastClosedDayEnd, {pg::Text(settings_.time_zone)});
  });
  if (r.Rows() == 0 || r.IsNull(0, 0)) return std::nullopt;
  return std::stod(std::string(r.Text(0, 0)));
}

}  // namespace ates::scheduler
