// Pure parts of billing: amounts as text, the payout e-mail, what the ledger accepts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "ledger.hpp"
#include "mail_format.hpp"
#include "mailer.hpp"
#include "smtp_security.hpp"

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

// 2026-03-10 18:04:05 UTC, a Tuesday.
const auto kSentAt = std::chrono::system_clock::from_time_t(1773165845);

TEST(ComposePayoutMail, HeadersAndBodyCarryTheAmountDateAndPayoutId) {
  const std::string id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  auto m = Mailer::Compose(Settings(), id, "popug@example.com", "Popug One", "2026-03-10", 305017,
                           kSentAt);
  EXPECT_THAT(m, StartsWith("From: \"aTES Billing\" <billing@ates.local>\r\n"));
  EXPECT_THAT(m, HasSubstr("\r\nTo: \"Popug One\" <popug@example.com>\r\n"));
  EXPECT_THAT(m, HasSubstr("\r\nDate: Tue, 10 Mar 2026 18:04:05 +0000\r\n"));
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
  auto m =
      Mailer::Compose(Settings(), "id-1", "popug@example.com", "", "2026-03-10", 1000, kSentAt);
  EXPECT_THAT(m, HasSubstr("\r\nTo: popug@example.com\r\n"));
  EXPECT_THAT(m, HasSubstr("Hello,\r\n"));
  EXPECT_THAT(m, HasSubstr("$10.00"));
}

TEST(ComposePayoutMail, TheSamePayoutGivesTheSameMessage) {
  // A resend after a crash between delivery and marking it sent must be
  // recognisable as the same e-mail.
  auto a = Mailer::Compose(Settings(), "id-2", "p@example.com", "P", "2026-03-10", 2500, kSentAt);
  auto b = Mailer::Compose(Settings(), "id-2", "p@example.com", "P", "2026-03-10", 2500, kSentAt);
  EXPECT_EQ(a, b);
  EXPECT_NE(a,
            Mailer::Compose(Settings(), "id-3", "p@example.com", "P", "2026-03-10", 2500, kSentAt));
}

TEST(FormatMailbox, QuotesAsciiNamesAndEscapesQuotesAndBackslashes) {
  EXPECT_EQ(FormatMailbox("Popug One", "p@example.com"), "\"Popug One\" <p@example.com>");
  EXPECT_EQ(FormatMailbox("Smith, John", "j@example.com"), "\"Smith, John\" <j@example.com>");
  EXPECT_EQ(FormatMailbox("Popug \"The Boss\" \\ One", "p@example.com"),
            "\"Popug \\\"The Boss\\\" \\\\ One\" <p@example.com>");
  EXPECT_EQ(FormatMailbox("", "p@example.com"), "p@example.com");
}

TEST(FormatMailbox, EncodesNonAsciiNamesAsRfc2047Words) {
  // "Попуг" in UTF-8.
  EXPECT_EQ(FormatMailbox("\xD0\x9F\xD0\xBE\xD0\xBF\xD1\x83\xD0\xB3", "p@example.com"),
            "=?UTF-8?B?0J/QvtC/0YPQsw==?= <p@example.com>");
  // A long name becomes several words, none longer than 75 characters, and no
  // word ends inside a UTF-8 sequence (each decodes on its own).
  std::string long_name;
  for (int i = 0; i < 40; ++i) long_name += "\xC3\xA9";  // "é" x 40 = 80 bytes
  auto mailbox = FormatMailbox(long_name, "p@example.com");
  std::vector<std::string> words;
  size_t pos = 0;
  while ((pos = mailbox.find("=?UTF-8?B?", pos)) != std::string::npos) {
    auto end = mailbox.find("?=", pos + 10);
    ASSERT_NE(end, std::string::npos);
    words.push_back(mailbox.substr(pos, end + 2 - pos));
    pos = end + 2;
  }
  ASSERT_EQ(words.size(), 2u) << mailbox;
  for (const auto& w : words) EXPECT_LE(w.size(), 75u) << w;
  EXPECT_EQ(words[0], "=?UTF-8?B?w6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6nDqcOpw6k=?=");
}

TEST(FormatMailbox, ControlCharactersCannotStartAnotherHeader) {
  auto m = Mailer::Compose(Settings(), "id-9", "p@example.com\r\nBcc: x@evil.test",
                           "Popug\r\nBcc: victim@example.com", "2026-03-10", 100, kSentAt);
  EXPECT_THAT(m, Not(HasSubstr("\r\nBcc:")));
  EXPECT_THAT(m, HasSubstr("\r\nTo: \"PopugBcc: victim@example.com\" <p@example.comBcc: "
                           "x@evil.test>\r\n"));
}

TEST(FormatMailDate, IsRfc5322InUtc) {
  EXPECT_EQ(FormatMailDate(std::chrono::system_clock::from_time_t(0)),
            "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(FormatMailDate(kSentAt), "Tue, 10 Mar 2026 18:04:05 +0000");
}

TEST(SmtpTls, CredentialsRequireStartTlsOnPlainSmtp) {
  EXPECT_EQ(ChooseSmtpTls("smtp://mail:587", true).tls, SmtpTls::kStartTlsRequired);
  EXPECT_EQ(ChooseSmtpTls("smtp://mail:587", true).error, "");
  EXPECT_EQ(ChooseSmtpTls("smtp://mail:25", false).tls, SmtpTls::kOpportunistic);
  EXPECT_EQ(ChooseSmtpTls("smtps://mail:465", true).tls, SmtpTls::kImplicit);
}

TEST(SmtpTls, AnUnknownSchemeIsAConfigurationError) {
  auto choice = ChooseSmtpTls("mail.example.com:25", true);
  EXPECT_THAT(choice.error, HasSubstr("smtp:// or smtps://"));
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
