// The envelope check and the NATS credentials config (ADR 15), without I/O.
#include "ates/platform/event_envelope.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <fstream>

#include "ates/platform/config.hpp"
#include "ates/platform/jetstream.hpp"

namespace ates {
namespace {

using ::testing::HasSubstr;

TEST(EventEnvelopeTest, EachDomainHasExactlyItsOwnServiceAsProducer) {
  EXPECT_EQ(
      events::EnvelopeMismatch("accounts.account.created", "accounts.account.created", "ates-auth"),
      "");
  EXPECT_EQ(events::EnvelopeMismatch("tasks.task.completed", "tasks.task.completed", "ates-tasks"),
            "");
  EXPECT_EQ(events::EnvelopeMismatch("billing.payout.made", "billing.payout.made", "ates-billing"),
            "");
  EXPECT_EQ(events::EnvelopeMismatch("schedule.billing_cycle.closed",
                                     "schedule.billing_cycle.closed", "ates-scheduler"),
            "");
  EXPECT_THAT(
      events::EnvelopeMismatch("tasks.task.completed", "tasks.task.completed", "ates-billing"),
      HasSubstr("Ates-Producer 'ates-billing' is not ates-tasks"));
  EXPECT_THAT(
      events::EnvelopeMismatch("tasks.task.completed", "tasks.task.completed", "ates-analytics"),
      HasSubstr("is not ates-tasks"));
  EXPECT_THAT(events::EnvelopeMismatch("tasks.task.completed", "tasks.task.completed", ""),
              HasSubstr("Ates-Producer '' is not ates-tasks"));
}

TEST(EventEnvelopeTest, SubjectAndEventNameMustBeTheSame) {
  EXPECT_THAT(events::EnvelopeMismatch("tasks.task.assigned", "tasks.task.completed", "ates-tasks"),
              HasSubstr("subject 'tasks.task.assigned' differs from Ates-Event-Name"));
  EXPECT_THAT(events::EnvelopeMismatch("tasks.task.completed", "", "ates-tasks"),
              HasSubstr("differs"));
}

TEST(EventEnvelopeTest, ASubjectOutsideTheFourDomainsHasNoOwner) {
  EXPECT_THAT(events::EnvelopeMismatch("payroll.run.done", "payroll.run.done", "ates-billing"),
              HasSubstr("in no known domain"));
  EXPECT_EQ(events::OwnerOf("tasks"), nullptr);
  EXPECT_EQ(events::OwnerOf("taskstasks.x"), nullptr);
  ASSERT_NE(events::OwnerOf("schedule.billing_cycle.closed"), nullptr);
  EXPECT_EQ(events::OwnerOf("schedule.billing_cycle.closed")->stream, "SCHEDULE");
}

class NatsCredentialsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv("ATES_NATS_PASSWORD");
    if (!file_.empty()) std::remove(file_.c_str());
  }
  std::string File(const std::string& text) {
    file_ = ::testing::TempDir() + "/nats-password";
    std::ofstream(file_) << text;
    return file_;
  }
  std::string file_;
};

TEST_F(NatsCredentialsTest, UserWithPasswordFromTheEnvironmentOrAFile) {
  auto config = platform::Config::FromString("nats: {user: ates-tasks}");
  setenv("ATES_NATS_PASSWORD", "s3cret", 1);
  auto c = platform::ReadNatsCredentials(config);
  EXPECT_EQ(c.user, "ates-tasks");
  EXPECT_EQ(c.password, "s3cret");
  unsetenv("ATES_NATS_PASSWORD");
  auto from_file = platform::Config::FromString(
      "nats: {user: ates-tasks, password_file: " + File("from-file\n") + "}");
  EXPECT_EQ(platform::ReadNatsCredentials(from_file).password, "from-file");
}

TEST_F(NatsCredentialsTest, AUserWithoutPasswordOrTwoPasswordsFailAtStart) {
  auto no_password = platform::Config::FromString("nats: {user: ates-tasks, password_file: ''}");
  EXPECT_THROW(
      {
        try {
          platform::ReadNatsCredentials(no_password);
        } catch (const platform::ConfigError& e) {
          EXPECT_THAT(e.what(), HasSubstr("ATES_NATS_PASSWORD"));
          throw;
        }
      },
      platform::ConfigError);
  setenv("ATES_NATS_PASSWORD", "x", 1);
  auto both =
      platform::Config::FromString("nats: {user: ates-tasks, password_file: " + File("y") + "}");
  EXPECT_THROW(platform::ReadNatsCredentials(both), platform::ConfigError);
  auto missing = platform::Config::FromString(
      "nats: {user: ates-tasks, password_file: /nonexistent/password}");
  unsetenv("ATES_NATS_PASSWORD");
  EXPECT_THROW(platform::ReadNatsCredentials(missing), platform::ConfigError);
}

TEST_F(NatsCredentialsTest, NoUserMeansNoCredentials) {
  auto config = platform::Config::FromString("nats: {user: ''}");
  auto c = platform::ReadNatsCredentials(config);
  EXPECT_TRUE(c.user.empty());
  EXPECT_TRUE(c.password.empty());
}

}  // namespace
}  // namespace ates
