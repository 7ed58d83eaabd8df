#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "args.hpp"
#include "exit_codes.hpp"
#include "format.hpp"

namespace ates::ctl {
namespace {

TEST(FormatCents, DollarsWithTwoDecimals) {
  EXPECT_EQ(FormatCents(0), "0.00");
  EXPECT_EQ(FormatCents(5), "0.05");
  EXPECT_EQ(FormatCents(-5), "-0.05");
  EXPECT_EQ(FormatCents(-1234), "-12.34");
  EXPECT_EQ(FormatCents(100), "1.00");
  EXPECT_EQ(FormatCents(123456789), "1234567.89");
}

TEST(FormatCents, ExtremesDoNotOverflow) {
  EXPECT_EQ(FormatCents(std::numeric_limits<std::int64_t>::max()), "92233720368547758.07");
  EXPECT_EQ(FormatCents(std::numeric_limits<std::int64_t>::min()), "-92233720368547758.08");
}

TEST(CsvRecord, PlainFieldsJoinedByCommasEndingInCrlf) {
  EXPECT_EQ(CsvRecord({"2026-03-10", "-12.50", "popug"}), "2026-03-10,-12.50,popug\r\n");
  EXPECT_EQ(CsvRecord({}), "\r\n");
  EXPECT_EQ(CsvRecord({"", "x", ""}), ",x,\r\n");
}

TEST(CsvRecord, QuotesFieldsWithCommasQuotesAndLineBreaks) {
  EXPECT_EQ(CsvRecord({"Feed, then clean"}), "\"Feed, then clean\"\r\n");
  EXPECT_EQ(CsvRecord({"the \"big\" cage"}), "\"the \"\"big\"\" cage\"\r\n");
  EXPECT_EQ(CsvRecord({"two\nlines", "cr\rhere"}), "\"two\nlines\",\"cr\rhere\"\r\n");
  EXPECT_EQ(CsvRecord({"\""}), "\"\"\"\"\r\n");
  EXPECT_EQ(CsvRecord({"Пополугай"}), "Пополугай\r\n");  // UTF-8 passes through
}

TEST(LoginOrId, TheLoginWhenKnownElseTheId) {
  EXPECT_EQ(LoginOrId("popug", "5f1e2d3c"), "popug");
  EXPECT_EQ(LoginOrId("", "5f1e2d3c"), "5f1e2d3c");
}

TEST(FormatUnixTime, UtcOrDash) {
  EXPECT_EQ(FormatUnixTime(0), "-");
  EXPECT_EQ(FormatUnixTime(1714557600), "2024-05-01 10:00:00Z");
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(ParseDuration("--timeout", "10s"), std::chrono::seconds(10));
  EXPECT_EQ(ParseDuration("--timeout", "500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(ParseDuration("--timeout", "2m"), std::chrono::minutes(2));
  EXPECT_EQ(ParseDuration("--timeout", "1h"), std::chrono::hours(1));
  EXPECT_EQ(ParseDuration("--timeout", "3"), std::chrono::seconds(3));
  for (const char* bad : {"", "s", "0s", "-1s", "1.5s", "10 s", "10d", "99999h"}) {
    EXPECT_THROW(ParseDuration("--timeout", bad), UsageError) << bad;
  }
}

TEST(ParsePositive, WholeNumbersAboveZero) {
  EXPECT_EQ(ParsePositive("--limit", "20"), 20);
  EXPECT_THROW(ParsePositive("--limit", "0"), UsageError);
  EXPECT_THROW(ParsePositive("--limit", "-3"), UsageError);
  EXPECT_THROW(ParsePositive("--limit", "ten"), UsageError);
}

TEST(ParseBool, Words) {
  EXPECT_TRUE(ParseBool("--active", "true"));
  EXPECT_FALSE(ParseBool("--active", "false"));
  EXPECT_THROW(ParseBool("--active", "maybe"), UsageError);
}

TEST(CheckDate, CalendarDays) {
  EXPECT_EQ(CheckDate("--date", "2024-02-29"), "2024-02-29");
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-04-31", "2024-5-1", "20240501",
                          "2024-05-0x", "yesterday"}) {
    EXPECT_THROW(CheckDate("--date", bad), UsageError) << bad;
  }
}

TEST(Table, AlignsColumnsUnderHeader) {
  Table t({{"ID"}, {"TITLE"}, {"AMOUNT", Table::Align::kRight}});
  t.AddRow({"1", "Fix the nest", "-12.34"});
  t.AddRow({"22", "Feed", "5.00"});
  EXPECT_EQ(t.Render(),
            "ID  TITLE         AMOUNT\n"
            "1   Fix the nest  -12.34\n"
            "22  Feed            5.00\n");
}

TEST(Table, NoTrailingSpacesAndHeaderOnlyWhenEmpty) {
  Table t({{"A"}, {"LONG_HEADER"}});
  EXPECT_EQ(t.Render(), "A  LONG_HEADER\n");
  t.AddRow({"xyz", ""});
  EXPECT_EQ(t.Render(), "A    LONG_HEADER\nxyz\n");
}

TEST(Table, CountsUtf8CodePointsAndFlattensLineBreaks) {
  Table t({{"NAME"}, {"X"}});
  t.AddRow({"Попуг", "1"});
  t.AddRow({"a\nb", "2"});
  EXPECT_EQ(t.Render(),
            "NAME   X\n"
            "Попуг  1\n"
            "a b    2\n");
}

TEST(Table, MissingCellsPrintEmpty) {
  Table t({{"A"}, {"B"}, {"C"}});
  t.AddRow({"1"});
  EXPECT_EQ(t.rows(), 1u);
  EXPECT_EQ(t.Render(), "A  B  C\n1\n");
}

TEST(ExitCodeFor, DocumentedMapping) {
  using grpc::StatusCode;
  EXPECT_EQ(ExitCodeFor(StatusCode::OK), 0);
  EXPECT_EQ(ExitCodeFor(StatusCode::INTERNAL), 1);
  EXPECT_EQ(ExitCodeFor(StatusCode::UNAUTHENTICATED), 3);
  EXPECT_EQ(ExitCodeFor(StatusCode::PERMISSION_DENIED), 4);
  EXPECT_EQ(ExitCodeFor(StatusCode::NOT_FOUND), 5);
  EXPECT_EQ(ExitCodeFor(StatusCode::UNAVAILABLE), 6);
  EXPECT_EQ(ExitCodeFor(StatusCode::DEADLINE_EXCEEDED), 6);
  EXPECT_EQ(ExitCodeFor(StatusCode::INVALID_ARGUMENT), 7);
  EXPECT_EQ(ExitCodeFor(StatusCode::ALREADY_EXISTS), 8);
  EXPECT_EQ(ExitCodeFor(StatusCode::FAILED_PRECONDITION), 8);
  EXPECT_EQ(PlainWords(StatusCode::PERMISSION_DENIED), "permission denied");
}

TEST(ExitCodeFor, NoStatusMeansDifferencesFound) {
  // 9 is only ever the verdict of a check that ran (audit reconcile).
  for (int code = 0; code <= 16; ++code) {
    EXPECT_NE(ExitCodeFor(static_cast<grpc::StatusCode>(code)), kExitDifferences) << code;
  }
  EXPECT_NE(ExitCodeHelp().find("  9  differences found"), std::string::npos) << ExitCodeHelp();
}

}  // namespace
}  // namespace ates::ctl
