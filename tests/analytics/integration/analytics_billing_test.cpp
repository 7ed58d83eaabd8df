// ates-analytics checked against billing's own data. The real ates-auth,
// ates-billing and ates-analytics run on the private stack; the test plays
// ates-tasks and ates-scheduler: it publishes TASKS events for twelve business
// days across a month boundary and three ISO weeks, in a scrambled order
// (completed before created, v1 and v2 created events) and some twice, then
// closes every day. Billing prices, posts and pays out; analytics builds its
// read models from TASKS and billing's BILLING events. Then, for every day,
// ISO week and month, analytics' earnings, negative-balance counts and most
// expensive task must be what billing's API and tables say.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>

#include "support/analytics_daemon.hpp"
#include "support/billing_helpers.hpp"
#include "support/e2e_support.hpp"

namespace ates::test {
namespace {

using ::ates::common::v1::ROLE_ACCOUNTANT;
using ::ates::common::v1::ROLE_MANAGER;
using ::ates::common::v1::ROLE_WORKER;

// Fri 2025-09-26 .. Tue 2025-10-07: the ISO weeks of Sep 22, Sep 29 and Oct 6,
// and the months September and October. Nothing at all happens on Sunday
// 2025-10-05 (so its DAY has no most expensive task).
constexpr const char* kFirstDay = "2025-09-26";
constexpr int kDays = 12;
constexpr const char* kQuietDay = "2025-10-05";
constexpr int kWorkers = 5;
constexpr int kTasks = 48;

class AnalyticsBillingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      auto& stack = TestStack::Get();
      js_ = new JsClient(stack.nats_url());
      const std::map<std::string, std::string> env = {
          {"ATES_NATS_DUPLICATE_WINDOW", kDuplicateWindow}, {"ATES_BUSINESS_DAY_TIME_ZONE", "UTC"}};
      auth_ = new Daemon(AuthDaemon("ates-auth", stack.CreateDatabase("an_auth"),
                                    {{"ATES_NATS_DUPLICATE_WINDOW", kDuplicateWindow}}));
      auth_->Start();
      billing_db_ = stack.CreateDatabase("an_billing");
      billing_ = new Daemon(
          BillingDaemon("ates-billing", billing_db_, auth_->target(), stack.dir() + "/mail", env));
      billing_->Start();
      analytics_db_ = stack.CreateDatabase("an_analytics");
      analytics_ = new Daemon(
          AnalyticsDaemon("ates-analytics", analytics_db_, auth_->target(), "analytics", env));
      analytics_->Start();
      auto auth_stub = authv1::AuthService::NewStub(auth_->channel());
      admin_ = Login(*auth_stub, kAdminLogin, kAdminPassword);
      accountant_ = CreatePerson(*auth_stub, admin_, "an-accountant", ROLE_ACCOUNTANT);
      worker_ = CreatePerson(*auth_stub, admin_, "an-worker", ROLE_WORKER);
      manager_ = CreatePerson(*auth_stub, admin_, "an-manager", ROLE_MANAGER);
      PlayTheDays();
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }

  static void TearDownTestSuite() {
    for (auto* d : {analytics_, billing_, auth_}) {
      if (d != nullptr && d->Running()) d->Stop();
      delete d;
    }
    analytics_ = billing_ = auth_ = nullptr;
    delete js_;
    js_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static std::vector<std::string> Days() {
    std::vector<std::string> out;
    for (int i = 0; i < kDays; ++i) out.push_back(e2e::ShiftDate(kFirstDay, i));
    return out;
  }

  static std::string Time(std::mt19937& rng, int from_hour = 0) {
    std::uniform_int_distribution<int> h(from_hour, 23), m(0, 59), s(0, 59);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", h(rng), m(rng), s(rng));
    return buf;
  }

  // Publishes every task's life in a scrambled order, some events twice, waits
  // for billing and analytics, then closes every day in order.
  static void PlayTheDays() {
    std::mt19937 rng(20251001);
    std::vector<std::string> days;
    for (const auto& d : Days()) {
      if (d != kQuietDay) days.push_back(d);
    }
    std::vector<std::string> workers;
    std::vector<Ev> events;
    for (int i = 0; i < kWorkers; ++i) {
      workers.push_back(events::NewUuid());
      events.push_back(AccountCreatedEv(workers.back(), "an-popug-" + std::to_string(i)));
    }
    auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
    for (int t = 0; t < kTasks; ++t) {
      const std::string task = events::NewUuid();
      size_t day = static_cast<size_t>(pick(static_cast<int>(days.size())));
      std::string at = At(days[day], Time(rng));
      if (t % 3 == 0) {
        events.push_back(CreatedV1(
            task, "[UP-" + std::to_string(t) + "] Feed the popugs " + std::to_string(t), at));
      } else {
        events.push_back(
            CreatedV2(task, "Clean the nest " + std::to_string(t), "UP-" + std::to_string(t), at));
      }
      std::string assignee;
      int assignments = pick(3) == 0 ? 2 : 1;  // a third of the tasks shuffled once
      for (int a = 0; a < assignments; ++a) {
        std::string previous = assignee;
        assignee = workers[pick(kWorkers)];
        if (a > 0 && pick(2) == 0 && day + 1 < days.size()) ++day;  // a shuffle on a later day
        at = std::max(at, At(days[day], Time(rng)));
        events.push_back(AssignedEv(task, assignee, at, previous));
      }
      if (pick(10) < 8) {
        if (pick(3) == 0 && day + 1 < days.size()) ++day;
        std::string done = At(days[day], Time(rng));
        if (done <= at) done = At(days[day], "23:59:59");
        events.push_back(CompletedEv(task, assignee, done));
      }
    }
    std::shuffle(events.begin(), events.end(), rng);
    for (const auto& e : events) {
      model_.Record(e);
      if (Publish(*js_, e).duplicate) throw std::runtime_error("duplicate publish of " + e.id);
    }
    // Every fifth event again, with the same id, once the stream's duplicate
    // window is over: a real second delivery that both must ignore.
    std::this_thread::sleep_for(kPastDuplicateWindow);
    for (size_t i = 0; i < events.size(); i += 5) {
      if (Publish(*js_, events[i]).duplicate) {
        throw std::runtime_error("the stream dropped a re-published event: window too long");
      }
    }
    Quiet();
    // The scheduler's part: every day closed, in order.
    for (const auto& d : Days()) {
      if (Publish(*js_, ClosedEv(d)).duplicate) throw std::runtime_error("close " + d);
    }
    Quiet();
    if (QueryInt(billing_db_, "SELECT count(*) FROM billing_cycles") != kDays) {
      throw std::runtime_error("billing did not close every day");
    }
  }

  static void Quiet() {
    if (!BillingQuiet(*js_, billing_db_)) throw std::runtime_error("billing never caught up");
    if (!Eventually([] { return AnalyticsCaughtUp(*js_); }, 30s)) {
      throw std::runtime_error("analytics never caught up");
    }
  }

  // ---- billing's side ------------------------------------------------------------------

  struct Expensive {
    std::string task_id, title, jira_id;
    int64_t reward = 0;
    int64_t completed_us = 0;
  };

  // The completed task with the highest reward whose reward billing posted in
  // [from, to] (ties: earliest completion, then id), from billing's tables.
  static std::optional<Expensive> BillingMostExpensive(const std::string& from,
                                                       const std::string& to) {
    auto r = Query(billing_db_,
                   "SELECT t.task_id::text, COALESCE(p.title, ''), COALESCE(p.jira_id, ''),"
                   " p.completion_reward_cents,"
                   " (EXTRACT(EPOCH FROM t.occurred_at) * 1000000)::bigint"
                   " FROM transactions t JOIN task_prices p ON p.task_id = t.task_id"
                   " WHERE t.kind = 'completion_reward'"
                   " AND t.business_date BETWEEN $1::date AND $2::date"
                   " ORDER BY p.completion_reward_cents DESC, t.occurred_at, t.task_id LIMIT 1",
                   {pg::Text(from), pg::Text(to)});
    if (r.Rows() == 0) return std::nullopt;
    return Expensive{r.String(0, 0), r.String(0, 1), r.String(0, 2), r.Int(0, 3), r.Int(0, 4)};
  }

  // Accounts whose billing balance was negative at the end of `date`: the sum
  // of their transactions (payouts included) up to that business day.
  static int64_t BillingNegativeAt(const std::string& date) {
    return QueryInt(billing_db_,
                    "SELECT count(*) FROM (SELECT account_id FROM transactions"
                    " WHERE business_date <= $1::date GROUP BY account_id"
                    " HAVING sum(amount_cents) < 0) n",
                    {pg::Text(date)});
  }

  static billv1::GetManagementEarningsResponse BillingEarnings(const std::string& from,
                                                               const std::string& to) {
    auto stub = billv1::BillingService::NewStub(billing_->channel());
    Call c(accountant_.token);
    billv1::GetManagementEarningsRequest req;
    req.set_from_date(from);
    req.set_to_date(to);
    billv1::GetManagementEarningsResponse resp;
    auto s = stub->GetManagementEarnings(&c.ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return resp;
  }

  static inline std::string* setup_error_ = nullptr;
  static inline JsClient* js_ = nullptr;
  static inline Daemon *auth_ = nullptr, *billing_ = nullptr, *analytics_ = nullptr;
  static inline std::string billing_db_, analytics_db_;
  static inline std::string admin_;
  static inline Person accountant_, worker_, manager_;
  static inline LedgerModel model_;
};

TEST_F(AnalyticsBillingTest, BillingItselfIsConsistentWithTheEventsPublished) {
  auto stub = billv1::BillingService::NewStub(billing_->channel());
  StreamCache billing_events(*js_, "BILLING");
  CheckLedgerInvariants(billing_db_, model_, *stub, accountant_.token, billing_events);
  // The scenario is not trivial: payouts, negative balances and completions
  // in every week and month.
  EXPECT_GT(QueryInt(billing_db_, "SELECT count(*) FROM payouts"), 0);
  int64_t negative = 0;
  for (const auto& d : Days()) negative = std::max(negative, BillingNegativeAt(d));
  EXPECT_GT(negative, 0);
  std::cout << "[ INFO ] " << QueryInt(billing_db_, "SELECT count(*) FROM transactions")
            << " transactions, " << QueryInt(billing_db_, "SELECT count(*) FROM payouts")
            << " payouts, at most " << negative << " accounts negative at the end of a day\n";
}

TEST_F(AnalyticsBillingTest, DailyEarningsAndSummariesEqualBillings) {
  // One day either side, where both must say zero.
  const std::string from = e2e::ShiftDate(kFirstDay, -1), to = e2e::ShiftDate(kFirstDay, kDays);
  auto billing = BillingEarnings(from, to);
  auto stub = anv1::AnalyticsService::NewStub(analytics_->channel());
  Call c(admin_);
  anv1::GetEarningsRequest req;
  req.set_from_date(from);
  req.set_to_date(to);
  anv1::GetEarningsResponse resp;
  auto s = stub->GetEarnings(&c.ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(resp.days_size(), kDays + 2);
  ASSERT_EQ(billing.days_size(), kDays + 2);
  int64_t total_fees = 0;
  for (int i = 0; i < resp.days_size(); ++i) {
    const auto& a = resp.days(i);
    const auto& b = billing.days(i);
    SCOPED_TRACE(b.business_date());
    EXPECT_EQ(a.business_date(), b.business_date());
    EXPECT_EQ(a.fees_charged_cents(), b.fees_charged_cents());
    EXPECT_EQ(a.rewards_paid_cents(), b.rewards_paid_cents());
    EXPECT_EQ(a.earnings_cents(), b.earnings_cents());
    total_fees += a.fees_charged_cents();

    Call sc(admin_);
    anv1::GetDailySummaryRequest sreq;
    sreq.set_business_date(b.business_date());
    anv1::GetDailySummaryResponse summary;
    auto ss = stub->GetDailySummary(&sc.ctx, sreq, &summary);
    ASSERT_TRUE(ss.ok()) << Describe(ss);
    EXPECT_EQ(summary.business_date(), b.business_date());
    EXPECT_EQ(summary.fees_charged_cents(), b.fees_charged_cents());
    EXPECT_EQ(summary.rewards_paid_cents(), b.rewards_paid_cents());
    EXPECT_EQ(summary.earnings_cents(), b.earnings_cents());
    EXPECT_EQ(summary.negative_balance_accounts(), BillingNegativeAt(b.business_date()));
  }
  EXPECT_EQ(resp.days(0).fees_charged_cents(), 0);
  EXPECT_EQ(resp.days(kDays + 1).fees_charged_cents(), 0);
  EXPECT_EQ(total_fees, QueryInt(billing_db_,
                                 "SELECT -sum(amount_cents) FROM transactions"
                                 " WHERE kind = 'assign_fee'"));
}

TEST_F(AnalyticsBillingTest, MostExpensiveTaskOfEveryDayWeekAndMonthEqualsBillings) {
  auto stub = anv1::AnalyticsService::NewStub(analytics_->channel());
  struct Case {
    anv1::Period period;
    std::string date;
    std::pair<std::string, std::string> range;
  };
  std::vector<Case> cases;
  for (const auto& d : Days()) {
    cases.push_back({anv1::PERIOD_DAY, d, {d, d}});
    cases.push_back({anv1::PERIOD_WEEK, d, e2e::IsoWeekOf(d)});
    cases.push_back({anv1::PERIOD_MONTH, d, e2e::MonthOf(d)});
  }
  int found = 0, not_found = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(anv1::Period_Name(c.period) + " of " + c.date);
    Call call(admin_);
    anv1::GetMostExpensiveTaskRequest req;
    req.set_period(c.period);
    req.set_business_date(c.date);
    anv1::GetMostExpensiveTaskResponse resp;
    auto s = stub->GetMostExpensiveTask(&call.ctx, req, &resp);
    auto want = BillingMostExpensive(c.range.first, c.range.second);
    if (!want) {
      ++not_found;
      EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
      continue;
    }
    ++found;
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(resp.from_date(), c.range.first);
    EXPECT_EQ(resp.to_date(), c.range.second);
    EXPECT_EQ(resp.task_id(), want->task_id);
    EXPECT_EQ(resp.reward_cents(), want->reward);
    EXPECT_EQ(resp.title(), want->title);
    EXPECT_EQ(resp.jira_id(), want->jira_id);
    EXPECT_EQ(resp.completed_at().seconds() * 1000000 + resp.completed_at().nanos() / 1000,
              want->completed_us);
  }
  EXPECT_EQ(not_found, 1) << "only the quiet Sunday's DAY has no completed task";
  EXPECT_GT(found, 30);
}

TEST_F(AnalyticsBillingTest, LegacyTitlesAreSplitLikeBillingSplitsThem) {
  // v1 created events carry "[UP-n] text"; both sides keep jira_id apart.
  EXPECT_EQ(QueryInt(analytics_db_,
                     "SELECT count(*) FROM task_facts WHERE title LIKE '%[%' OR jira_id = ''"),
            0);
  EXPECT_EQ(QueryInt(billing_db_, "SELECT count(*) FROM task_prices"),
            QueryInt(analytics_db_, "SELECT count(*) FROM task_facts"));
  auto r = Query(billing_db_,
                 "SELECT task_id::text, title, jira_id, assign_fee_cents,"
                 " completion_reward_cents FROM task_prices ORDER BY task_id");
  auto a = Query(analytics_db_,
                 "SELECT task_id::text, title, jira_id, fee_cents, reward_cents"
                 " FROM task_facts ORDER BY task_id");
  ASSERT_EQ(r.Rows(), a.Rows());
  for (int i = 0; i < r.Rows(); ++i) {
    for (int j = 0; j < 5; ++j) EXPECT_EQ(a.String(i, j), r.String(i, j)) << r.String(i, 0);
  }
}

TEST_F(AnalyticsBillingTest, OnlyTheAdminSeesAnalytics) {
  auto stub = anv1::AnalyticsService::NewStub(analytics_->channel());
  for (const Person* p : {&worker_, &accountant_, &manager_}) {
    SCOPED_TRACE(p->login);
    Call c1(p->token);
    anv1::GetDailySummaryResponse r1;
    EXPECT_EQ(stub->GetDailySummary(&c1.ctx, anv1::GetDailySummaryRequest(), &r1).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    Call c2(p->token);
    anv1::GetMostExpensiveTaskRequest q2;
    q2.set_period(anv1::PERIOD_MONTH);
    q2.set_business_date(kFirstDay);
    anv1::GetMostExpensiveTaskResponse r2;
    EXPECT_EQ(stub->GetMostExpensiveTask(&c2.ctx, q2, &r2).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_TRUE(r2.task_id().empty());
    Call c3(p->token);
    anv1::GetEarningsRequest q3;
    q3.set_from_date(kFirstDay);
    q3.set_to_date(kFirstDay);
    anv1::GetEarningsResponse r3;
    EXPECT_EQ(stub->GetEarnings(&c3.ctx, q3, &r3).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(r3.days_size(), 0);
  }
}

TEST_F(AnalyticsBillingTest, NoDeadLettersAndNothingLeftInTheOutboxes) {
  for (const auto& db : {billing_db_, analytics_db_}) {
    EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM dead_letters"), 0) << db;
    EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0) << db;
  }
}

}  // namespace
}  // namespace ates::test
