#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "ates/platform/pg.hpp"

namespace ates::analytics {

enum class Period { kDay, kWeek, kMonth };

struct DaySummary {
  std::string business_date;
  int64_t fees_cents = 0;
  int64_t rewards_cents = 0;
  int64_t negative_accounts = 0;
  // business_date, fees_cents, rewards_cents (negative_accounts is the summary's alone).
  static DaySummary From(const pg::Row& row);
};

struct ExpensiveTask {
  std::string task_id;
  std::string title;
  std::string jira_id;
  int64_t reward_cents = 0;
  std::chrono::system_clock::time_point completed_at;
  std::string from_date;  // the period
  std::string to_date;
  static ExpensiveTask From(const pg::Row& row);
};

// Reads of the analytics read models. Dates are "YYYY-MM-DD" in the business
// time zone; empty means today.
class AnalyticsQueries final {
 public:
  AnalyticsQueries(pg::Pool& db, std::string time_zone)
      : db_(db), time_zone_(std::move(time_zone)) {}

  DaySummary Summary(const std::string& date);
  // NOT_FOUND when no task with a known reward was completed in the period.
  ExpensiveTask MostExpensive(Period period, const std::string& date);
  std::vector<DaySummary> Earnings(const std::string& from, const std::string& to);

 private:
  // The date in canonical form, or "" (today) for ""; INVALID_ARGUMENT naming `field`.
  static std::string ValidDate(const std::string& date, const char* field);

  pg::Pool& db_;
  std::string time_zone_;
};

}  // namespace ates::analytics
