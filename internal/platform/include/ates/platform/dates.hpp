#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ates::platform {

// Business dates as "YYYY-MM-DD" (no time zone: the zone is the configured
// business zone, and PostgreSQL turns instants into dates in it).
std::optional<std::chrono::year_month_day> ParseDate(std::string_view text);
std::string FormatDate(std::chrono::year_month_day date);
std::chrono::year_month_day AddDays(std::chrono::year_month_day date, int days);
int DaysBetween(std::chrono::year_month_day from, std::chrono::year_month_day to);  // to - from

}  // namespace ates::platform
