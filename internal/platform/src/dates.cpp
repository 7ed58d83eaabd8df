#include "ates/platform/dates.hpp"

#include <charconv>
#include <cstdio>

#include "ates/platform/config.hpp"
#include "ates/platform/pg.hpp"

namespace ates::platform {
namespace {

// Stricter than `now() AT TIME ZONE $1`, which also takes abbreviations and
// POSIX offsets ("UTC+3" is three hours *west*): only a zone database name counts.
constexpr std::string_view kZoneKnown =
    "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)";

}  // namespace

std::optional<std::chrono::year_month_day> ParseDate(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0, d = 0;
  auto num = [&](size_t pos, size_t len, auto& out) {
    auto r = std::from_chars(t.data() + pos, t.data() + pos + len, out);
    return r.ec == std::errc() && r.ptr == t.data() + pos + len;
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok() || y < 1970 || y > 9999) return std::nullopt;
  return ymd;
}

std::string FormatDate(std::chrono::year_month_day date) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buf;
}

std::chrono::year_month_day AddDays(std::chrono::year_month_day date, int days) {
  return std::chrono::year_month_day(std::chrono::sys_days(date) + std::chrono::days(days));
}

int DaysBetween(std::chrono::year_month_day from, std::chrono::year_month_day to) {
  return static_cast<int>((std::chrono::sys_days(to) - std::chrono::sys_days(from)).count());
}

void CheckTimeZone(pg::Pool& db, const std::string& zone, const std::string& key) {
  auto conn = db.Acquire();
  if (conn->Exec(kZoneKnown, {pg::Text(zone)}).Bool(0, 0)) return;
  throw ConfigError("config key '" + key + "': '" + zone +
                    "' is not a time zone PostgreSQL knows (an IANA name such as"
                    " Europe/Moscow, see pg_timezone_names)");
}

}  // namespace ates::platform
