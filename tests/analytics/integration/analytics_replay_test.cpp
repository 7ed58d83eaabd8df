// ates-analytics gives the same read model whatever the order of its events,
// with events delivered twice and with a full replay. No billing daemon here:
// the test publishes TASKS and BILLING events itself, exactly as ates-tasks
// and ates-billing would, for tasks over two weeks across a month boundary,
// and computes every figure by hand.
//
//   - group X: the BILLING events of a task first, its TASKS events later;
//     group Y: the other way round; inside each phase the order is scrambled
//     (a completion before the creation, a posting before the price).
//   - a third of all events published again after the duplicate window, so
//     JetStream stores and delivers them a second time.
//   - analytics A consumes live; analytics B starts afterwards on a fresh
//     database with fresh durables and small batches and replays it all.
// Both must answer exactly the hand computation, and their tables must match
// row for row.
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

constexpr const char* kFirstDay = "2026-02-23";  // a Monday; Feb/Mar boundary inside
constexpr int kDays = 14;

struct Expected {
  std::map<std::string, std::pair<int64_t, int64_t>> day;         // date -> fees, rewards
  std::map<std::pair<std::string, std::string>, int64_t> totals;  // (account, date) -> amount
  struct Done {
    std::string task_id, title, jira_id, date;
    int64_t reward = 0, completed_us = 0;
  };
  std::vector<Done> completions;

  int64_t NegativeAt(const std::string& date) const {
    std::map<std::string, int64_t> sum;
    for (const auto& [key, amount] : totals) {
      if (key.second <= date) sum[key.first] += amount;
    }
    int64_t n = 0;
    for (const auto& [account, s] : sum) n += s < 0;
    return n;
  }
  std::optional<Done> MostExpensive(const std::string& from, const std::string& to) const {
    std::optional<Done> best;
    for (const auto& c : completions) {
      if (c.date < from || c.date > to) continue;
      if (!best || c.reward > best->reward ||
          (c.reward == best->reward &&
           (c.completed_us < best->completed_us ||
            (c.completed_us == best->completed_us && c.task_id < best->task_id)))) {
        best = c;
      }
    }
    return best;
  }
};

// One BILLING event as ates-billing publishes it.
Ev BillingEv(const std::string& subject, std::string payload) {
  Ev e;
  e.subject = subject;
  e.id = events::NewUuid();
  e.version = 1;
  e.payload = std::move(payload);
  return e;
}

Ev PricedEv(const std::string& task, int64_t fee, int64_t reward, const std::string& at) {
  bev1::TaskPriced p;
  p.set_task_id(task);
  p.set_assign_fee_cents(fee);
  p.set_completion_reward_cents(reward);
  *p.mutable_priced_at() = Ts(at);
  return BillingEv("billing.task.priced", p.SerializeAsString());
}

Ev AppliedEv(const std::string& transaction_id, bev1::TransactionKind kind,
             const std::string& account, const std::string& task, int64_t amount,
             const std::string& date, const std::string& at) {
  bev1::TransactionApplied t;
  t.set_transaction_id(transaction_id);
  t.set_kind(kind);
  t.set_account_id(account);
  t.set_task_id(task);
  t.set_amount_cents(amount);
  t.set_business_date(date);
  *t.mutable_occurred_at() = Ts(at);
  return BillingEv("billing.transaction.applied", t.SerializeAsString());
}

Ev PayoutEv(const std::string& payout_id, const std::string& account, int64_t amount,
            const std::string& date) {
  bev1::PayoutMade p;
  p.set_payout_id(payout_id);
  p.set_account_id(account);
  p.set_business_date(date);
  p.set_amount_cents(amount);
  *p.mutable_paid_at() = Ts(At(AddDays(date, 1), "00:00:02"));
  return BillingEv("billing.payout.made", p.SerializeAsString());
}

class AnalyticsReplayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto& stack = TestStack::Get();
    js_ = new JsClient(stack.nats_url());
    // Streams as the producers would make them, with a short duplicate window.
    const auto window = std::chrono::milliseconds(1000);
    js_->AddStream("TASKS", {"tasks.>"}, window);
    js_->AddStream("BILLING", {"billing.>"}, window);
    js_->AddStream("SCHEDULE", {"schedule.>"}, window);
    auth_ = new Daemon(AuthDaemon("ates-auth", stack.CreateDatabase("rp_auth"),
                                  {{"ATES_NATS_DUPLICATE_WINDOW", kDuplicateWindow}}));
    auth_->Start();
    auto auth_stub = authv1::AuthService::NewStub(auth_->channel());
    admin_ = new std::string(Login(*auth_stub, kAdminLogin, kAdminPassword));
  }
  static void TearDownTestSuite() {
    delete auth_;
    auth_ = nullptr;
    delete admin_;
    admin_ = nullptr;
    delete js_;
    js_ = nullptr;
  }

  static std::string Time(std::mt19937& rng) {
    std::uniform_int_distribution<int> h(0, 23), m(0, 59), s(0, 59), us(0, 999999);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%06d", h(rng), m(rng), s(rng), us(rng));
    return buf;
  }

  // Every answer of `stub` equals the hand computation.
  static void ExpectAnswers(anv1::AnalyticsService::Stub& stub, const Expected& want) {
    const std::string from = AddDays(kFirstDay, -1), to = AddDays(kFirstDay, kDays);
    Call c(*admin_);
    anv1::GetEarningsRequest req;
    req.set_from_date(from);
    req.set_to_date(to);
    anv1::GetEarningsResponse resp;
    auto s = stub.GetEarnings(&c.ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << Describe(s);
    ASSERT_EQ(resp.days_size(), kDays + 2);
    for (const auto& d : resp.days()) {
      SCOPED_TRACE(d.business_date());
      auto it = want.day.find(d.business_date());
      auto fr = it == want.day.end() ? std::pair<int64_t, int64_t>{0, 0} : it->second;
      EXPECT_EQ(d.fees_charged_cents(), fr.first);
      EXPECT_EQ(d.rewards_paid_cents(), fr.second);
      EXPECT_EQ(d.earnings_cents(), fr.first - fr.second);
      Call sc(*admin_);
      anv1::GetDailySummaryRequest sreq;
      sreq.set_business_date(d.business_date());
      anv1::GetDailySummaryResponse summary;
      ASSERT_TRUE(stub.GetDailySummary(&sc.ctx, sreq, &summary).ok());
      EXPECT_EQ(summary.earnings_cents(), fr.first - fr.second);
      EXPECT_EQ(summary.negative_balance_accounts(), want.NegativeAt(d.business_date()));
      for (auto period : {anv1::PERIOD_DAY, anv1::PERIOD_WEEK, anv1::PERIOD_MONTH}) {
        auto range = period == anv1::PERIOD_DAY    ? std::pair{d.business_date(), d.business_date()}
                     : period == anv1::PERIOD_WEEK ? e2e::IsoWeekOf(d.business_date())
                                                   : e2e::MonthOf(d.business_date());
        Call mc(*admin_);
        anv1::GetMostExpensiveTaskRequest mreq;
        mreq.set_period(period);
        mreq.set_business_date(d.business_date());
        anv1::GetMostExpensiveTaskResponse m;
        auto ms = stub.GetMostExpensiveTask(&mc.ctx, mreq, &m);
        auto best = want.MostExpensive(range.first, range.second);
        if (!best) {
          EXPECT_EQ(ms.error_code(), grpc::StatusCode::NOT_FOUND) << anv1::Period_Name(period);
          continue;
        }
        ASSERT_TRUE(ms.ok()) << anv1::Period_Name(period) << ": " << Describe(ms);
        EXPECT_EQ(m.task_id(), best->task_id) << anv1::Period_Name(period);
        EXPECT_EQ(m.reward_cents(), best->reward) << anv1::Period_Name(period);
        EXPECT_EQ(m.title(), best->title) << anv1::Period_Name(period);
        EXPECT_EQ(m.jira_id(), best->jira_id) << anv1::Period_Name(period);
        EXPECT_EQ(m.completed_at().seconds() * 1000000 + m.completed_at().nanos() / 1000,
                  best->completed_us)
            << anv1::Period_Name(period);
      }
    }
  }

  static inline JsClient* js_ = nullptr;
  static inline Daemon* auth_ = nullptr;
  static inline std::string* admin_ = nullptr;
};

TEST_F(AnalyticsReplayTest, SameReadModelInAnyOrderWithDuplicatesAndOnReplay) {
  auto& stack = TestStack::Get();
  const std::string db_a = stack.CreateDatabase("rp_analytics_a");
  const std::string a_metrics = "127.0.0.1:" + std::to_string(FreePort());
  Daemon a(AnalyticsDaemon("ates-analytics-a", db_a, auth_->target(), "analytics_a",
                           {{"ATES_BUSINESS_DAY_TIME_ZONE", "UTC"},
                            {"ATES_NATS_DUPLICATE_WINDOW", kDuplicateWindow},
                            {"ATES_ADMIN_LISTEN", a_metrics}}));
  a.Start();

  // ---- the events and the hand computation ----
  std::mt19937 rng(4242);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  std::vector<std::string> accounts;
  for (int i = 0; i < 6; ++i) accounts.push_back(events::NewUuid());
  Expected want;
  std::vector<Ev> x_billing, x_tasks, y_tasks, y_billing;
  std::map<std::pair<std::string, std::string>, int64_t> due;  // running, for payouts
  for (int t = 0; t < 40; ++t) {
    const bool group_x = t % 2 == 0;
    auto& billing = group_x ? x_billing : y_billing;
    auto& tasks = group_x ? x_tasks : y_tasks;
    const std::string task = events::NewUuid();
    const std::string jira = "UP-" + std::to_string(500 + t);
    const std::string title = "Count the seeds " + std::to_string(t);
    int day = pick(kDays);
    std::string date = AddDays(kFirstDay, day);
    std::string at = At(date, Time(rng));
    const int64_t fee = 1000 + pick(1001);
    // Some rewards equal on purpose: ties go to the earliest completion.
    const int64_t reward = t % 7 == 3 ? 3999 : 2000 + pick(2001);
    if (t % 4 == 1) {
      tasks.push_back(CreatedV1(task, "[" + jira + "] " + title, at));
    } else {
      tasks.push_back(CreatedV2(task, title, jira, at));
    }
    billing.push_back(PricedEv(task, fee, reward, at));
    std::string assignee;
    for (int k = 0, n = 1 + pick(3); k < n; ++k) {
      std::string previous = assignee;
      assignee = accounts[pick(static_cast<int>(accounts.size()))];
      auto assigned = AssignedEv(task, assignee, at, previous);
      tasks.push_back(assigned);
      billing.push_back(AppliedEv(assigned.id, bev1::TRANSACTION_KIND_ASSIGN_FEE, assignee, task,
                                  -fee, date, at));
      want.day[date].first += fee;
      want.totals[{assignee, date}] -= fee;
    }
    if (pick(10) < 7) {
      if (pick(2) == 0 && day + 1 < kDays) {
        ++day;
        date = AddDays(kFirstDay, day);
        at = At(date, "00:00:00.000000");
      }
      std::string done = At(date, Time(rng));
      if (done < at) done = at;
      auto completed = CompletedEv(task, assignee, done);
      tasks.push_back(completed);
      billing.push_back(AppliedEv(completed.id, bev1::TRANSACTION_KIND_COMPLETION_REWARD, assignee,
                                  task, reward, date, done));
      want.day[date].second += reward;
      want.totals[{assignee, date}] += reward;
      auto ts = Ts(done);
      want.completions.push_back(
          {task, title, jira, date, reward, ts.seconds() * 1000000 + ts.nanos() / 1000});
    }
  }
  // Payouts at the end of each day, as billing would make them.
  std::vector<Ev> closes;
  for (int d = 0; d < kDays; ++d) {
    const std::string date = AddDays(kFirstDay, d);
    std::map<std::string, int64_t> balance;
    for (const auto& [key, amount] : want.totals) {
      if (key.second <= date) balance[key.first] += amount;
    }
    for (const auto& [account, b] : balance) {
      if (b <= 0) continue;
      const std::string payout = events::NewUuid();
      y_billing.push_back(AppliedEv(payout, bev1::TRANSACTION_KIND_PAYOUT, account, "", -b, date,
                                    At(AddDays(date, 1), "00:00:01")));
      y_billing.push_back(PayoutEv(payout, account, b, date));
      want.totals[{account, date}] -= b;
    }
    closes.push_back(ClosedEv(date));
  }
  ASSERT_FALSE(want.completions.empty());

  auto publish_all = [&](std::vector<Ev> evs) {
    std::shuffle(evs.begin(), evs.end(), rng);
    for (const auto& e : evs) ASSERT_FALSE(Publish(*js_, e).duplicate) << e.subject;
  };
  auto a_stub = anv1::AnalyticsService::NewStub(a.channel());
  // Phase 1: X's billing side and Y's tasks side; phase 2: the rest.
  {
    std::vector<Ev> phase1 = x_billing;
    phase1.insert(phase1.end(), y_tasks.begin(), y_tasks.end());
    publish_all(phase1);
  }
  ASSERT_TRUE(Eventually([&] { return AnalyticsCaughtUp(*js_, "analytics_a"); }, 30s));
  {
    std::vector<Ev> phase2 = x_tasks;
    phase2.insert(phase2.end(), y_billing.begin(), y_billing.end());
    phase2.insert(phase2.end(), closes.begin(), closes.end());
    publish_all(phase2);
  }
  ASSERT_TRUE(Eventually([&] { return AnalyticsCaughtUp(*js_, "analytics_a"); }, 30s));
  {
    SCOPED_TRACE("analytics A, live");
    ExpectAnswers(*a_stub, want);
  }
  const auto live = DumpReadModel(db_a);

  // A third of everything again, after the window: stored and delivered twice.
  std::this_thread::sleep_for(kPastDuplicateWindow);
  std::vector<Ev> all;
  for (const auto* group : {&x_billing, &x_tasks, &y_tasks, &y_billing, &closes}) {
    all.insert(all.end(), group->begin(), group->end());
  }
  std::shuffle(all.begin(), all.end(), rng);
  const uint64_t tasks_before = js_->LastSeq("TASKS"), billing_before = js_->LastSeq("BILLING");
  for (size_t i = 0; i < all.size(); i += 3) {
    ASSERT_FALSE(Publish(*js_, all[i]).duplicate) << "the stream dropped a late duplicate";
  }
  EXPECT_GT(js_->LastSeq("TASKS"), tasks_before);
  EXPECT_GT(js_->LastSeq("BILLING"), billing_before);
  ASSERT_TRUE(Eventually([&] { return AnalyticsCaughtUp(*js_, "analytics_a"); }, 30s));
  EXPECT_EQ(DumpReadModel(db_a), live) << "a second delivery changed the read model";
  {  // the second copies were delivered, and dropped by the inbox
    auto m = e2e::CheckPrometheusText(e2e::HttpGet(a_metrics, "/metrics").body);
    EXPECT_GE(m.Sum("ates_events_duplicate_total"), static_cast<double>((all.size() + 2) / 3));
  }
  {
    SCOPED_TRACE("analytics A, after duplicates");
    ExpectAnswers(*a_stub, want);
  }

  // A fresh analytics replays every stream from the start, duplicates included,
  // in small batches (its own interleaving of TASKS and BILLING).
  const std::string db_b = stack.CreateDatabase("rp_analytics_b");
  Daemon b(AnalyticsDaemon("ates-analytics-b", db_b, auth_->target(), "analytics_b",
                           {{"ATES_BUSINESS_DAY_TIME_ZONE", "UTC"},
                            {"ATES_NATS_DUPLICATE_WINDOW", kDuplicateWindow},
                            {"ATES_CONSUMERS_TASKS_BATCH_SIZE", "3"},
                            {"ATES_CONSUMERS_BILLING_BATCH_SIZE", "7"},
                            {"ATES_CONSUMERS_SCHEDULE_BATCH_SIZE", "1"}}));
  b.Start();
  ASSERT_TRUE(Eventually([&] { return AnalyticsCaughtUp(*js_, "analytics_b"); }, 30s));
  EXPECT_EQ(DumpReadModel(db_b), live) << "a replay built another read model";
  auto b_stub = anv1::AnalyticsService::NewStub(b.channel());
  {
    SCOPED_TRACE("analytics B, replay");
    ExpectAnswers(*b_stub, want);
  }
  for (const auto& db : {db_a, db_b}) {
    EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM dead_letters"), 0);
  }
  // Each event id applied once per consumer, duplicates or not.
  EXPECT_EQ(QueryInt(db_b, "SELECT count(*) FROM processed_events"),
            static_cast<int64_t>(all.size()));
  a_stub.reset();
  b_stub.reset();
  EXPECT_EQ(a.Stop(), 0);
  EXPECT_EQ(b.Stop(), 0);
}

}  // namespace
}  // namespace ates::test
