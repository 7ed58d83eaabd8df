// The clock cannot close the future (issue 9, item 7): the real ates-scheduler
// against PostgreSQL's clock. A scheduler whose clock is more than
// schedule.max_clock_skew away from PostgreSQL's closes nothing (log, metric,
// FAILED_PRECONDITION by hand) and catches up once the clocks agree; one whose
// clock runs days ahead, with the bound lifted, still never closes PostgreSQL's
// today or a later day. These tests close real (recent) dates, so they have a
// binary and a SCHEDULE stream of their own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <thread>

#include "ates/platform/events.hpp"
#include "ates/scheduler/v1/scheduler_service.grpc.pb.h"
#include "support/auth_helpers.hpp"
#include "support/e2e_support.hpp"
#include "support/scheduler_helpers.hpp"
#include "support/wait.hpp"

namespace ates::test {
namespace {

namespace schedv1 = ::ates::scheduler::v1;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

std::string CloseId(const std::string& date) {
  return events::NameUuid("schedule.billing_cycle.closed:" + date);
}

// PostgreSQL's today in UTC (the zone of these tests), after waiting out the
// last half minute before midnight so a test does not straddle two days.
std::string DatabaseToday(const std::string& db) {
  pg::Connection c(db);
  auto seconds_left =
      c.Exec("SELECT 86400 - EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC')::time)::bigint")
          .Int(0, 0);
  if (seconds_left < 30) std::this_thread::sleep_for(std::chrono::seconds(seconds_left + 2));
  return c.Exec("SELECT to_char((now() AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')").String(0, 0);
}

std::vector<std::string> ClosedDays(const std::string& db) {
  pg::Connection c(db);
  auto r = c.Exec("SELECT business_date::text FROM closed_days ORDER BY 1");
  std::vector<std::string> out;
  for (int i = 0; i < r.Rows(); ++i) out.push_back(r.String(i, 0));
  return out;
}

std::string InHours(int hours) {
  return e2e::Rfc3339Utc(std::chrono::system_clock::now() + std::chrono::hours(hours));
}

class SchedulerGuardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      auto& stack = TestStack::Get();
      js_ = new JsClient(stack.nats_url());
      auth_ = new Daemon(AuthDaemon("ates-auth", stack.CreateDatabase("guard_auth")));
      auth_->Start();
      auto stub = authv1::AuthService::NewStub(auth_->channel());
      Call c;
      authv1::LoginRequest req;
      req.set_login(kAdminLogin);
      req.set_password(kAdminPassword);
      authv1::LoginResponse resp;
      auto s = stub->Login(&c.ctx, req, &resp);
      if (!s.ok()) throw std::runtime_error("login: " + Describe(s));
      admin_ = new std::string(resp.access_token());
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete auth_;
    auth_ = nullptr;
    delete js_;
    js_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static grpc::Status CloseDay(Daemon& scheduler, const std::string& date) {
    auto stub = schedv1::SchedulerService::NewStub(scheduler.channel());
    Call c(*admin_);
    schedv1::CloseBillingCycleRequest req;
    req.set_business_date(date);
    schedv1::CloseBillingCycleResponse resp;
    return stub->CloseBillingCycle(&c.ctx, req, &resp);
  }
  // Unix time of midnight UTC (the business time zone of these daemons) starting `date`.
  static double MidnightUtc(const std::string& date) {
    std::tm tm{};
    std::sscanf(date.c_str(), "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<double>(timegm(&tm));
  }
  static double Metric(const std::string& listen, const std::string& name) {
    auto resp = e2e::HttpGet(listen, "/metrics");
    return resp.status == 200 ? e2e::CheckPrometheusText(resp.body).Sum(name) : -1;
  }
  // Close events on SCHEDULE for any of `dates`.
  static std::vector<std::string> AnnouncedOf(const std::vector<std::string>& dates) {
    std::map<std::string, std::string> by_id;
    for (const auto& d : dates) by_id[CloseId(d)] = d;
    std::vector<std::string> out;
    for (const auto& m : js_->Read("SCHEDULE")) {
      auto it = by_id.find(m.Header(events::kHeaderMsgId));
      if (it != by_id.end()) out.push_back(it->second);
    }
    return out;
  }

  static inline std::string* setup_error_ = nullptr;
  static inline JsClient* js_ = nullptr;
  static inline Daemon* auth_ = nullptr;
  static inline std::string* admin_ = nullptr;
};

TEST_F(SchedulerGuardTest, RefusesToCloseWhileItsClockIsAnHourAheadAndCatchesUpOnceTheyAgree) {
  const std::string db = TestStack::Get().CreateDatabase("guard_skew");
  const std::string today = DatabaseToday(db);
  const std::vector<std::string> owed = {e2e::ShiftDate(today, -3), e2e::ShiftDate(today, -2),
                                         e2e::ShiftDate(today, -1)};
  const std::string metrics = "127.0.0.1:" + std::to_string(FreePort());
  {
    Daemon s(
        SchedulerDaemon("ates-scheduler-ahead", db, auth_->target(), owed[0], InHours(1),
                        {{"ATES_SCHEDULE_MAX_CLOCK_SKEW", "5s"}, {"ATES_ADMIN_LISTEN", metrics}}));
    s.Start();
    // The pass at start and at least one more tick: each refused and counted.
    ASSERT_TRUE(Eventually(
        [&] { return Metric(metrics, "ates_scheduler_close_refusals_total") >= 2; }, 10s))
        << s.Log();
    const double skew = Metric(metrics, "ates_scheduler_clock_skew_seconds");
    EXPECT_NEAR(skew, 3600, 60);
    EXPECT_THAT(ClosedDays(db), ::testing::IsEmpty());
    // No day closed yet: the alert's clock starts at the first business date.
    EXPECT_EQ(Metric(metrics, "ates_scheduler_last_closed_day_end_seconds"), MidnightUtc(owed[0]));
    EXPECT_THAT(s.Log(), HasSubstr("not closing business days"));
    EXPECT_THAT(s.Log(), HasSubstr("schedule.max_clock_skew"));

    // By hand neither: FAILED_PRECONDITION naming the bound.
    auto st = CloseDay(s, owed[2]);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(st);
    EXPECT_THAT(st.error_message(), HasSubstr("schedule.max_clock_skew"));
    EXPECT_THAT(ClosedDays(db), ::testing::IsEmpty());
    EXPECT_EQ(s.Stop(), 0);
  }
  EXPECT_THAT(AnnouncedOf(owed), ::testing::IsEmpty());

  // The clock fixed (the system clock, the default bound): the owed days are
  // closed at start, oldest first.
  const std::string fixed_metrics = "127.0.0.1:" + std::to_string(FreePort());
  Daemon s(SchedulerDaemon(
      "ates-scheduler-fixed", db, auth_->target(), owed[0], "",
      {{"ATES_SCHEDULE_MAX_CLOCK_SKEW", "5s"}, {"ATES_ADMIN_LISTEN", fixed_metrics}}));
  s.Start();
  EXPECT_THAT(ClosedDays(db), ElementsAreArray(owed)) << s.Log();
  // Yesterday closed: the midnight that ended it, today's.
  EXPECT_EQ(Metric(fixed_metrics, "ates_scheduler_last_closed_day_end_seconds"),
            MidnightUtc(today));
  EXPECT_TRUE(Eventually([&] { return AnnouncedOf(owed).size() == owed.size(); }));
  EXPECT_THAT(AnnouncedOf(owed), ElementsAreArray(owed));
  EXPECT_EQ(s.Stop(), 0);
}

TEST_F(SchedulerGuardTest, NeverClosesTodayOrALaterDayEvenWithItsClockThreeDaysAhead) {
  const std::string db = TestStack::Get().CreateDatabase("guard_future");
  const std::string today = DatabaseToday(db);
  const std::string yesterday = e2e::ShiftDate(today, -1);
  const std::vector<std::string> not_over = {today, e2e::ShiftDate(today, 1),
                                             e2e::ShiftDate(today, 2)};
  // The skew bound lifted (SchedulerDaemon's default): only PostgreSQL's today
  // stands between this clock and the future.
  Daemon s(SchedulerDaemon("ates-scheduler-future", db, auth_->target(), yesterday, InHours(72)));
  s.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a pass or two more
  EXPECT_THAT(ClosedDays(db), ElementsAreArray({yesterday})) << s.Log();

  // By hand: its clock's yesterday is PostgreSQL's day after tomorrow.
  for (const auto& day : {not_over[1], not_over[2]}) {
    auto st = CloseDay(s, day);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << day << ": " << Describe(st);
    EXPECT_THAT(BadRequestFields(st), ::testing::Contains("business_date"));
    EXPECT_THAT(st.error_message(), HasSubstr(today));
  }
  EXPECT_THAT(ClosedDays(db), ElementsAreArray({yesterday}));
  EXPECT_EQ(s.Stop(), 0);
  EXPECT_THAT(AnnouncedOf(not_over), ::testing::IsEmpty());
}

}  // namespace
}  // namespace ates::test
