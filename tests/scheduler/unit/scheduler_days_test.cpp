#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "ates/platform/error.hpp"
#include "business_days.hpp"
#include "support/error_fields.hpp"

namespace ates::scheduler {
namespace {

using test::FieldsOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Date D(std::string_view text) {
  auto date = ParseDate(text);
  EXPECT_TRUE(date.has_value()) << text;
  return date.value_or(Date{});
}

std::vector<std::string> Strings(const std::vector<Date>& days) {
  std::vector<std::string> out;
  for (auto d : days) out.push_back(FormatDate(d));
  return out;
}

TEST(ParseDate, AcceptsRealCalendarDates) {
  EXPECT_EQ(FormatDate(D("2026-03-10")), "2026-03-10");
  EXPECT_EQ(FormatDate(D("2024-02-29")), "2024-02-29");  // leap year
  EXPECT_EQ(FormatDate(D("2000-02-29")), "2000-02-29");  // divisible by 400
  EXPECT_EQ(FormatDate(D("2026-12-31")), "2026-12-31");
  EXPECT_EQ(FormatDate(D("2026-01-01")), "2026-01-01");
}

TEST(ParseDate, RejectsImpossibleDates) {
  EXPECT_FALSE(ParseDate("2026-02-30"));
  EXPECT_FALSE(ParseDate("2026-02-29"));  // not a leap year
  EXPECT_FALSE(ParseDate("1900-02-29"));  // divisible by 100, not by 400
  EXPECT_FALSE(ParseDate("2026-04-31"));
  EXPECT_FALSE(ParseDate("2026-13-01"));
  EXPECT_FALSE(ParseDate("2026-00-10"));
  EXPECT_FALSE(ParseDate("2026-01-00"));
}

TEST(ParseDate, RejectsOtherFormats) {
  EXPECT_FALSE(ParseDate(""));
  EXPECT_FALSE(ParseDate("2026-3-10"));
  EXPECT_FALSE(ParseDate("2026-03-1"));
  EXPECT_FALSE(ParseDate("2026/03/10"));
  EXPECT_FALSE(ParseDate("10.03.2026"));
  EXPECT_FALSE(ParseDate("2026-03-10T00:00:00Z"));
  EXPECT_FALSE(ParseDate(" 2026-03-10"));
  EXPECT_FALSE(ParseDate("2026-03-10 "));
  EXPECT_FALSE(ParseDate("+026-03-10"));
  EXPECT_FALSE(ParseDate("2026-+3-10"));
  EXPECT_FALSE(ParseDate("yyyy-mm-dd"));
}

TEST(DaysToClose, NothingOnTheFirstDay) {
  EXPECT_THAT(DaysToClose(D("2026-03-10"), std::nullopt, D("2026-03-10")), IsEmpty());
}

TEST(DaysToClose, NothingBeforeTheFirstDay) {
  EXPECT_THAT(DaysToClose(D("2026-03-12"), std::nullopt, D("2026-03-10")), IsEmpty());
}

TEST(DaysToClose, YesterdayOnTheSecondDay) {
  EXPECT_THAT(Strings(DaysToClose(D("2026-03-10"), std::nullopt, D("2026-03-11"))),
              ElementsAre("2026-03-10"));
}

TEST(DaysToClose, NothingWhenYesterdayIsClosed) {
  EXPECT_THAT(DaysToClose(D("2026-03-01"), D("2026-03-10"), D("2026-03-11")), IsEmpty());
}

TEST(DaysToClose, NeverToday) {
  // Today is still going on, even when it was closed by hand or time stood still.
  EXPECT_THAT(DaysToClose(D("2026-03-01"), D("2026-03-11"), D("2026-03-11")), IsEmpty());
}

TEST(DaysToClose, GapOfSeveralDaysOldestFirst) {
  EXPECT_THAT(Strings(DaysToClose(D("2026-03-01"), D("2026-03-05"), D("2026-03-09"))),
              ElementsAre("2026-03-06", "2026-03-07", "2026-03-08"));
}

TEST(DaysToClose, MissedDaysFromTheFirstBusinessDate) {
  EXPECT_THAT(Strings(DaysToClose(D("2026-03-07"), std::nullopt, D("2026-03-10"))),
              ElementsAre("2026-03-07", "2026-03-08", "2026-03-09"));
}

TEST(DaysToClose, FirstDateLaterThanLastClosedWins) {
  // The first business date was moved forward: nothing before it is owed.
  EXPECT_THAT(Strings(DaysToClose(D("2026-03-08"), D("2026-03-02"), D("2026-03-10"))),
              ElementsAre("2026-03-08", "2026-03-09"));
}

TEST(DaysToClose, AcrossMonthEnds) {
  EXPECT_THAT(Strings(DaysToClose(D("2026-01-01"), D("2026-04-29"), D("2026-05-02"))),
              ElementsAre("2026-04-30", "2026-05-01"));
  EXPECT_THAT(Strings(DaysToClose(D("2026-01-01"), D("2026-01-30"), D("2026-02-02"))),
              ElementsAre("2026-01-31", "2026-02-01"));
}

TEST(DaysToClose, AcrossLeapDay) {
  EXPECT_THAT(Strings(DaysToClose(D("2024-01-01"), D("2024-02-27"), D("2024-03-02"))),
              ElementsAre("2024-02-28", "2024-02-29", "2024-03-01"));
  EXPECT_THAT(Strings(DaysToClose(D("2026-01-01"), D("2026-02-27"), D("2026-03-02"))),
              ElementsAre("2026-02-28", "2026-03-01"));
}

TEST(DaysToClose, AcrossYearEnd) {
  EXPECT_THAT(Strings(DaysToClose(D("2025-12-01"), D("2025-12-30"), D("2026-01-02"))),
              ElementsAre("2025-12-31", "2026-01-01"));
}

TEST(DaysToClose, WholeLeapYearOneDayEach) {
  auto days = DaysToClose(D("2024-01-01"), std::nullopt, D("2025-01-01"));
  ASSERT_EQ(days.size(), 366u);
  EXPECT_EQ(FormatDate(days.front()), "2024-01-01");
  EXPECT_EQ(FormatDate(days.back()), "2024-12-31");
  for (size_t i = 1; i < days.size(); ++i) {
    EXPECT_EQ(std::chrono::sys_days(days[i]) - std::chrono::sys_days(days[i - 1]),
              std::chrono::days(1));
  }
}

TEST(DaysToClose, LimitKeepsTheOldest) {
  EXPECT_THAT(Strings(DaysToClose(D("2026-03-01"), std::nullopt, D("2026-03-10"), 2)),
              ElementsAre("2026-03-01", "2026-03-02"));
  EXPECT_EQ(DaysToClose(D("2000-01-01"), std::nullopt, D("2026-03-10")).size(), kMaxDaysPerPass);
}

ClockReading Clocks(std::string_view clock_today, std::string_view database_today,
                    std::chrono::milliseconds skew) {
  return {D(clock_today), D(database_today), skew};
}

TEST(ClockSkewed, EitherWayBeyondTheBound) {
  using std::chrono::milliseconds;
  const milliseconds bound(5000);
  EXPECT_FALSE(ClockSkewed(Clocks("2026-03-10", "2026-03-10", milliseconds(0)), bound));
  EXPECT_FALSE(ClockSkewed(Clocks("2026-03-10", "2026-03-10", milliseconds(5000)), bound));
  EXPECT_FALSE(ClockSkewed(Clocks("2026-03-10", "2026-03-10", milliseconds(-5000)), bound));
  EXPECT_TRUE(ClockSkewed(Clocks("2026-03-10", "2026-03-10", milliseconds(5001)), bound));
  EXPECT_TRUE(ClockSkewed(Clocks("2026-03-10", "2026-03-10", milliseconds(-5001)), bound));
  EXPECT_TRUE(ClockSkewed(Clocks("2026-03-13", "2026-03-10", std::chrono::hours(72)), bound));
}

TEST(CurrentDay, NeverLaterThanTheDatabasesToday) {
  // The scheduler's clock just past its midnight, PostgreSQL's not yet.
  EXPECT_EQ(FormatDate(CurrentDay(Clocks("2026-03-11", "2026-03-10", std::chrono::seconds(2)))),
            "2026-03-10");
  // A clock standing still in the past (tests): its own day.
  EXPECT_EQ(FormatDate(CurrentDay(Clocks("2025-05-10", "2026-03-10", -std::chrono::hours(7000)))),
            "2025-05-10");
  EXPECT_EQ(FormatDate(CurrentDay(Clocks("2026-03-10", "2026-03-10", {}))), "2026-03-10");
}

TEST(DaysToClose, NeverTheDatabasesTodayWhenTheClockRunsAhead) {
  auto clocks = Clocks("2026-03-13", "2026-03-10", std::chrono::hours(72));
  EXPECT_THAT(Strings(DaysToClose(D("2026-03-08"), std::nullopt, CurrentDay(clocks))),
              ElementsAre("2026-03-08", "2026-03-09"));
}

TEST(ValidateCloseDate, TodayAndPastDaysAreFine) {
  EXPECT_EQ(FormatDate(ValidateCloseDate("2026-03-10", D("2026-03-10"))), "2026-03-10");
  EXPECT_EQ(FormatDate(ValidateCloseDate("2026-03-09", D("2026-03-10"))), "2026-03-09");
  // Before any first business date: allowed, an operator may close it by hand.
  EXPECT_EQ(FormatDate(ValidateCloseDate("1999-12-31", D("2026-03-10"))), "1999-12-31");
}

TEST(ValidateCloseDate, FutureDayNamesBusinessDate) {
  EXPECT_THAT(FieldsOf([] { ValidateCloseDate("2026-03-11", D("2026-03-10")); }),
              ElementsAre("business_date"));
  try {
    ValidateCloseDate("2027-01-01", D("2026-03-10"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("2026-03-10"));
  }
}

TEST(ValidateCloseDate, BadFormatNamesBusinessDate) {
  for (const char* bad : {"", "2026-02-30", "2026-3-1", "tomorrow", "2026-03-10T00:00:00Z"}) {
    EXPECT_THAT(FieldsOf([&] { ValidateCloseDate(bad, D("2026-03-10")); }),
                ElementsAre("business_date"))
        << bad;
  }
}

TEST(ValidatePage, DefaultsAndCapsTheSize) {
  auto p = ValidatePage(0, "");
  EXPECT_EQ(p.limit, 100);
  EXPECT_FALSE(p.before);
  EXPECT_EQ(ValidatePage(500, "").limit, 500);
  EXPECT_EQ(ValidatePage(501, "").limit, 500);  // AIP-158: capped, not refused
}

TEST(ValidatePage, ReadsTheDayOfItsOwnNextToken) {
  auto first = ValidatePage(7, "");
  auto q = ValidatePage(7, first.tokens.NextToken("2026-03-10"));
  EXPECT_EQ(q.limit, 7);
  ASSERT_TRUE(q.before);
  EXPECT_EQ(FormatDate(*q.before), "2026-03-10");
}

TEST(ValidatePage, RejectsNegativeSizeAndTokensItDidNotIssue) {
  EXPECT_THAT(FieldsOf([] { ValidatePage(-1, ""); }), ElementsAre("page_size"));
  // A bare date was the old token; tokens are opaque now.
  EXPECT_THAT(FieldsOf([] { ValidatePage(10, "2026-03-10"); }), ElementsAre("page_token"));
  auto first = ValidatePage(7, "");
  auto not_a_date = first.tokens.NextToken("2026-02-30");
  EXPECT_THAT(FieldsOf([&] { ValidatePage(10, not_a_date); }), ElementsAre("page_token"));
  EXPECT_THAT(FieldsOf([] { ValidatePage(-1, "x"); }), ElementsAre("page_size", "page_token"));
}

}  // namespace
}  // namespace ates::scheduler
