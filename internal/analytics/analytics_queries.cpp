#include "analytics_queries.hpp"

#include "ates/platform/dates.hpp"
#include "ates/platform/error.hpp"

namespace ates::analytics {
namespace {

constexpr std::string_view kToday = "SELECT (now() AT TIME ZONE $1)::date::text";
constexpr std::string_view kSummary =
    "SELECT COALESCE((SELECT fees_cents FROM day_earnings WHERE business_date = $1::date), 0),"
    " COALESCE((SELECT rewards_cents FROM day_earnings WHERE business_date = $1::date), 0),"
    " (SELECT count(*) FROM (SELECT account_id FROM account_day_totals"
    "   WHERE business_date <= $1::date GROUP BY account_id HAVING sum(amount_cents) < 0) n)";
constexpr std::string_view kPeriod =
    "SELECT CASE $2 WHEN 'day' THEN $1::date"
    "  WHEN 'week' THEN date_trunc('week', $1::date)::date"
    "  ELSE date_trunc('month', $1::date)::date END::text,"
    " CASE $2 WHEN 'day' THEN $1::date"
    "  WHEN 'week' THEN (date_trunc('week', $1::date) + interval '6 days')::date"
    "  ELSE (date_trunc('month', $1::date) + interval '1 month' - interval '1 day')::date"
    " END::text";
constexpr std::string_view kMostExpensive =
    "SELECT task_id, COALESCE(title, ''), COALESCE(jira_id, ''), reward_cents,"
    " EXTRACT(EPOCH FROM completed_at)::float8 FROM task_facts"
    " WHERE completed_date BETWEEN $1::date AND $2::date AND reward_cents IS NOT NULL"
    " ORDER BY reward_cents DESC, completed_at, task_id LIMIT 1";
constexpr std::string_view kEarnings =
    "SELECT d::date::text, COALESCE(e.fees_cents, 0), COALESCE(e.rewards_cents, 0)"
    " FROM generate_series($1::date, $2::date, interval '1 day') AS d"
    " LEFT JOIN day_earnings e ON e.business_date = d::date ORDER BY d";

}  // namespace

std::string AnalyticsQueries::DateOrToday(const std::string& date, const char* field) {
  if (!date.empty()) {
    auto parsed = platform::ParseDate(date);
    if (!parsed) {
      throw Error(ErrorCode::kInvalidArgument, std::string(field) + " must be YYYY-MM-DD",
                  {{field, "must be a date YYYY-MM-DD"}});
    }
    return platform::FormatDate(*parsed);
  }
  auto r = db_.WithRetry([&](pg::Connection& c) { return c.Exec(kToday, {pg::Text(time_zone_)}); });
  return r.String(0, 0);
}

DaySummary AnalyticsQueries::Summary(const std::string& date) {
  std::string d = DateOrToday(date, "business_date");
  auto r = db_.WithRetry([&](pg::Connection& c) { return c.Exec(kSummary, {pg::Text(d)}); });
  return {d, r.Int(0, 0), r.Int(0, 1), r.Int(0, 2)};
}

ExpensiveTask AnalyticsQueries::MostExpensive(Period period, const std::string& date) {
  std::string d = DateOrToday(date, "business_date");
  const char* name = period == Period::kDay ? "day" : period == Period::kWeek ? "week" : "month";
  auto range = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(kPeriod, {pg::Text(d), pg::Text(name)});
  });
  std::string from = range.String(0, 0), to = range.String(0, 1);
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(kMostExpensive, {pg::Text(from), pg::Text(to)});
  });
  if (r.Rows() == 0) {
    throw Error(ErrorCode::kNotFound, "no task was completed between " + from + " and " + to);
  }
  return {r.String(0, 0),
          r.String(0, 1),
          r.String(0, 2),
          r.Int(0, 3),
          std::stod(r.String(0, 4)),
          from,
          to};
}

std::vector<DaySummary> AnalyticsQueries::Earnings(const std::string& from, const std::string& to) {
  Validator v;
  auto f = platform::ParseDate(from);
  auto t = platform::ParseDate(to);
  v.Check(f.has_value(), "from_date", "must be a date YYYY-MM-DD");
  v.Check(t.has_value(), "to_date", "must be a date YYYY-MM-DD");
  v.ThrowIfInvalid();
  v.Check(platform::DaysBetween(*f, *t) >= 0, "to_date", "must not be before from_date");
  v.Check(platform::DaysBetween(*f, *t) < 366, "to_date", "range is limited to 366 days");
  v.ThrowIfInvalid();
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(kEarnings,
                  {pg::Text(platform::FormatDate(*f)), pg::Text(platform::FormatDate(*t))});
  });
  std::vector<DaySummary> days;
  for (int i = 0; i < r.Rows(); ++i) days.push_back({r.String(i, 0), r.Int(i, 1), r.Int(i, 2), 0});
  return days;
}

}  // namespace ates::analytics
