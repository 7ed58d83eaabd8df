#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ates::pg {
class Pool;
}

namespace ates::platform {

// Business dates as "YYYY-MM-DD" (no time zone: the zone is the configured
// business zone, and PostgreSQL turns instants into dates in it).
std::optional<std::chrono::year_month_day> ParseDate(std::string_view text);
std::string FormatDate(std::chrono::year_month_day date);
std::chrono::year_month_day AddDays(std::chrono::year_month_day date, int days);
int DaysBetween(std::chrono::year_month_day from, std::chrono::year_month_day to);  // to - from

// The config key of the business time zone (ates-billing, ates-analytics, ates-scheduler).
inline constexpr const char* kTimeZoneKey = "business_day.time_zone";

// Throws ConfigError naming `key` unless `zone` is a time zone name PostgreSQL
// lists in pg_timezone_names (g++ 12 has no C++20 time-zone database, so every
// date in a zone is computed by PostgreSQL). One attempt: a PgError when the
// database does not answer (App::OnReady retries those).
void CheckTimeZone(pg::Pool& db, const std::string& zone, const std::string& key = kTimeZoneKey);

}  // namespace ates::platform
