#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ates/platform/dates.hpp"
#include "ates/platform/page_token.hpp"

namespace ates::scheduler {

// A business day: a calendar date in the configured business time zone.
// Parsed and formatted as strict "YYYY-MM-DD" by platform::ParseDate / FormatDate.
using Date = std::chrono::year_month_day;
using platform::FormatDate;
using platform::ParseDate;

// The automatic pass closes at most this many days per run; the next run goes on.
inline constexpr size_t kMaxDaysPerPass = 1000;

// The days the automatic pass still owes, oldest first: from the day after
// `closed_through` (the last day it closed), or from `first` when it has closed
// nothing yet or `first` is later, up to and including the day before `today`.
// Today is never closed: it is still going on.
std::vector<Date> DaysToClose(Date first, std::optional<Date> closed_through, Date today,
                              size_t limit = kMaxDaysPerPass);

// The scheduler's clock and PostgreSQL's, read at one instant.
struct ClockReading {
  Date clock_today;                   // today in the business zone by the scheduler's clock
  Date database_today;                // the same by PostgreSQL's now()
  std::chrono::microseconds skew{0};  // scheduler's clock minus PostgreSQL's
};

// True when the two clocks differ by more than `bound`, either way: one of them
// is wrong, and the scheduler closes nothing (automatically or by hand) until
// they agree again.
bool ClockSkewed(const ClockReading& clocks, std::chrono::milliseconds bound);

// The business day still going on: the earlier of the two clocks' dates, so a
// day PostgreSQL's clock says is not over is never closed, whatever the
// scheduler's clock says (a clock ahead by less than the bound, just after its
// midnight; or a frozen test clock).
Date CurrentDay(const ClockReading& clocks);

// The date a CloseBillingCycle request names. INVALID_ARGUMENT naming
// business_date unless it is "YYYY-MM-DD" and not after `today`; days before the
// first business date may be closed by hand.
Date ValidateCloseDate(std::string_view business_date, Date today);

// A ListClosedCycles page: its size after AIP-158, the day it starts before, and
// the request that issues the next token. INVALID_ARGUMENT for a negative size
// or a token this service did not issue (platform::PageRequest).
struct PageRequest {
  int limit = platform::kDefaultPageSize;
  std::optional<Date> before;
  platform::PageRequest tokens;
};
PageRequest ValidatePage(int page_size, std::string_view page_token);

}  // namespace ates::scheduler
