// Pure parts of billing: amounts as text, the payout e-mail, what the ledger accepts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "ledger.hpp"
#include "mailer.hpp"

namespace ates::billing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

TEST(FormatCents, WholeAndFractionalDollars) {
  EXPECT_EQ(FormatCents(0), "0.00");
  EXPECT_EQ(FormatCents(5), "0.05");
  EXPECT_EQ(FormatCents(10), "0.10");
  EXPECT_EQ(FormatCents(100), "1.00");
  EXPECT_EQ(FormatCents(12345), "123.45");
  EXPECT_EQ(FormatCents(400000), "4000.00");
}

TEST(FormatCents, NegativeAmountsKeepTheSign) {
  EXPECT_EQ(FormatCents(-5), "-0.05");
  EXPECT_EQ(FormatCents(-100), "-1.00");
  EXPECT_EQ(FormatCents(-12345), "-123.45");
}

TEST(FormatCents, ExtremesDoNotOverflow) {
  EXPECT_EQ(FormatCents(std::numeric_limits<int64_t>::max()), "92233720368547758.07");
  EXPECT_EQ(FormatCents(std::numeric_limits<int64_t>::min()), "-92233720368547758.08");
}

MailSettings Settings() {
  MailSettings s;
  s.from = "billing@ates.local";
  return s;
}

TEST(ComposePayoutMail, HeadersAndBodyCarryTheAmountDateAndPayoutId) {
  const std::string id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  auto m = Mailer::Compose(Settings(), id, "popug@example.com", "Popug One", "2026-03-10", 305017);
  EXPECT_THAT(m, StartsWith("From: aTES Billing <billing@ates.local>\r\n"));
  EXPECT_THAT(m, HasSubstr("\r\nTo: Popug One <popug@example.com>\r\n"));
  EXPECT_THAT(m, HasSubstr("\r\nSubject: Your aTES payout for 2026-03-10: $3050.17\r\n"));
  EXPECT_THAT(m, HasSubstr("\r\nMessage-ID: <payout-" + id + "@ates.local>\r\n"));
  EXPECT_THAT(m, HasSubstr("\r\nContent-Type: text/plain; charset=utf-8\r\n"));
  // Headers end with an empty line, then the body names the amount again.
  auto split = m.find("\r\n\r\n");
  ASSERT_NE(split, std::string::npos);
  auto body = m.substr(split + 4);
  EXPECT_THAT(body, HasSubstr("Hello Popug One,"));
  EXPECT_THAT(body, HasSubstr("you were paid $3050.17"));
  EXPECT_THAT(body, HasSubstr("Payout id: " + id));
  // Bare line feeds are not allowed in SMTP data.
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      EXPECT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
    }
  }
}

TEST(ComposePayoutMail, WithoutANameAddressesTheMailboxOnly) {
  auto m = Mailer::Compose(Settings(), "id-1", "popug@example.com", "", "2026-03-10", 1000);
  EXPECT_THAT(m, HasSubstr("\r\nTo: popug@example.com\r\n"));
  EXPECT_THAT(m, HasSubstr("Hello,\r\n"));
  EXPECT_THAT(m, HasSubstr("$10.00"));
}

TEST(ComposePayoutMail, TheSamePayoutGivesTheSameMessage) {
  // A resend after a crash between delivery and marking it sent must be
  // recognisable as the same e-mail.
  auto a = Mailer::Compose(Settings(), "id-2", "p@example.com", "P", "2026-03-10", 2500);
  auto b = Mailer::Compose(Settings(), "id-2", "p@example.com", "P", "2026-03-10", 2500);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, Mailer::Compose(Settings(), "id-3", "p@example.com", "P", "2026-03-10", 2500));
}

TEST(LedgerHandler, AcceptsTaskEventsOfBothCreatedVersionsAndDayCloses) {
  platform::RandomPicker random(1);
  LedgerHandler handler({}, random, nullptr);
  EXPECT_THAT(handler.Accepts(),
              UnorderedElementsAre(Pair("tasks.task.created", 1), Pair("tasks.task.created", 2),
                                   Pair("tasks.task.assigned", 1), Pair("tasks.task.completed", 1),
                                   Pair("schedule.billing_cycle.closed", 1)));
}

TEST(LedgerHandler, TheCompanyAccountIsAFixedUuid) {
  EXPECT_STREQ(kCompanyAccount, "00000000-0000-0000-0000-000000000001");
}

}  // namespace
}  // namespace ates::billing
