#include "analytics_queries.hpp"

#include "analytics/queries.hpp"
#include "ates/platform/dates.hpp"
#include "ates/platform/error.hpp"
#include "ates/platform/timestamps.hpp"

namespace ates::analytics {
namespace {

const char* NameOf(Period period) {
  return period == Period::kDay ? "day" : period == Period::kWeek ? "week" : "month";
}

}  // namespace

DaySummary DaySummary::From(const pg::Row& row) {
  return {row.String("business_date"), row.Int("fees_cents"), row.Int("rewards_cents"), 0};
}

ExpensiveTask ExpensiveTask::From(const pg::Row& row) {
  return {row.String("task_id"),
          row.String("title"),
          row.String("jira_id"),
          row.Int("reward_cents"),
          platform::FromEpochText(row.Text("completed_at")),
          row.String("from_date"),
          row.String("to_date")};
}

std::string AnalyticsQueries::ValidDate(const std::string& date, const char* field) {
  if (date.empty()) return "";  // today, by the query in the business time zone
  auto parsed = platform::ParseDate(date);
  if (!parsed) {
    throw Error(ErrorCode::kInvalidArgument, std::string(field) + " must be YYYY-MM-DD",
                {{field, "must be a date YYYY-MM-DD"}});
  }
  return platform::FormatDate(*parsed);
}

DaySummary AnalyticsQueries::Summary(const std::string& date) {
  std::string d = ValidDate(date, "business_date");
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(sql::kSelectDaySummary, {pg::Text(d), pg::Text(time_zone_)});
  });
  auto row = r.At(0);
  DaySummary summary = DaySummary::From(row);
  summary.negative_accounts = row.Int("negative_accounts");
  return summary;
}

ExpensiveTask AnalyticsQueries::MostExpensive(Period period, const std::string& date) {
  std::string d = ValidDate(date, "business_date");
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(sql::kSelectMostExpensiveTask,
                  {pg::Text(d), pg::Text(time_zone_), pg::Text(NameOf(period))});
  });
  auto row = r.At(0);
  if (row.IsNull("task_id")) {
    throw Error(ErrorCode::kNotFound, "no task was completed between " + row.String("from_date") +
                                          " and " + row.String("to_date"));
  }
  return ExpensiveTask::From(row);
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
    return c.Exec(sql::kSelectEarnings,
                  {pg::Text(platform::FormatDate(*f)), pg::Text(platform::FormatDate(*t))});
  });
  std::vector<DaySummary> days;
  days.reserve(r.Rows());
  for (int i = 0; i < r.Rows(); ++i) days.push_back(DaySummary::From(r.At(i)));
  return days;
}

}  // namespace ates::analytics
