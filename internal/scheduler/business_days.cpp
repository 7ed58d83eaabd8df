#include "business_days.hpp"

#include <algorithm>

#include "ates/platform/error.hpp"

namespace ates::scheduler {

std::vector<Date> DaysToClose(Date first, std::optional<Date> closed_through, Date today,
                              size_t limit) {
  std::chrono::sys_days from(first);
  if (closed_through && std::chrono::sys_days(*closed_through) >= from) {
    from = std::chrono::sys_days(*closed_through) + std::chrono::days(1);
  }
  std::vector<Date> days;
  for (auto d = from; d < std::chrono::sys_days(today) && days.size() < limit;
       d += std::chrono::days(1)) {
    days.emplace_back(d);
  }
  return days;
}

bool ClockSkewed(const ClockReading& clocks, std::chrono::milliseconds bound) {
  auto skew = clocks.skew < std::chrono::microseconds(0) ? -clocks.skew : clocks.skew;
  return skew > bound;
}

Date CurrentDay(const ClockReading& clocks) {
  return std::min(clocks.clock_today, clocks.database_today);
}

Date ValidateCloseDate(std::string_view business_date, Date today) {
  auto date = ParseDate(business_date);
  if (!date) {
    throw Error(ErrorCode::kInvalidArgument, "business_date must be a calendar date as YYYY-MM-DD",
                {{"business_date", "must be a calendar date as YYYY-MM-DD"}});
  }
  if (*date > today) {
    std::string why =
        "must not be after today (" + FormatDate(today) + " in the business time zone)";
    throw Error(ErrorCode::kInvalidArgument, "business_date " + why, {{"business_date", why}});
  }
  return *date;
}

PageRequest ValidatePage(int page_size, std::string_view page_token) {
  auto page =
      platform::PageRequest::Read(page_size, page_token, platform::PageFilter("ListClosedCycles"));
  std::optional<Date> before;
  if (page.cursor()) {
    before = ParseDate(*page.cursor());
    if (!before) platform::ThrowBadPageToken();
  }
  return {page.limit(), before, std::move(page)};
}

}  // namespace ates::scheduler
