// Billing's ledger from events published straight onto the TASKS stream: each
// task priced once in range whatever the order of its events, every event
// delivered twice, one debit per assignment and one credit per completion.
// The ledger invariants are checked after every test (BillingTest::TearDown).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>

#include "support/billing_helpers.hpp"

namespace ates::test {
namespace {

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new BillingWorldEnvironment);

using ::testing::Each;
using ::testing::SizeIs;

struct TaskPlan {
  std::string id;
  std::vector<Ev> events;  // in the order they are published
};

// Publishes the plans' events interleaved (first event of every task, then the
// second, ...), so several tasks are in flight in one batch.
void PublishInterleaved(BillingWorld& w, const std::vector<TaskPlan>& plans) {
  size_t longest = 0;
  for (const auto& p : plans) longest = std::max(longest, p.events.size());
  for (size_t i = 0; i < longest; ++i) {
    for (const auto& p : plans) {
      if (i < p.events.size()) {
        EXPECT_FALSE(w.Send(p.events[i]).duplicate);
      }
    }
  }
}

// Every event again, as new stream messages with the same Nats-Msg-Id (the
// duplicate window has passed), in reverse order.
void PublishAgain(BillingWorld& w, const std::vector<TaskPlan>& plans) {
  std::this_thread::sleep_for(kPastDuplicateWindow);
  for (auto p = plans.rbegin(); p != plans.rend(); ++p) {
    for (auto e = p->events.rbegin(); e != p->events.rend(); ++e) {
      EXPECT_FALSE(Publish(*w.js, *e).duplicate) << "the copy must reach the stream";
    }
  }
}

int64_t Count(const std::string& db, std::string_view sql, const pg::Params& params) {
  return QueryInt(db, sql, params);
}

TEST_F(BillingTest, EachTaskIsPricedOnceInRangeWhateverTheOrderAndEveryEventTwice) {
  const std::string d = w().NewDays(1);
  const std::string a = w().NewWorker(), b = w().NewWorker();
  auto t = [] { return events::NewUuid(); };
  std::vector<TaskPlan> plans;
  {  // completed before assigned before created (v1 title with its jira id)
    auto id = t();
    plans.push_back({id,
                     {CompletedEv(id, a, At(d, "10:03:00")), AssignedEv(id, a, At(d, "10:01:00")),
                      CreatedV1(id, "[UP-1] Completed first", At(d, "10:00:00"))}});
  }
  {  // assigned before created (v2), completed last
    auto id = t();
    plans.push_back({id,
                     {AssignedEv(id, b, At(d, "11:01:00")),
                      CreatedV2(id, "Assigned first", "UP-2", At(d, "11:00:00")),
                      CompletedEv(id, b, At(d, "11:05:00"))}});
  }
  {  // the usual order, with a shuffle from a to b
    auto id = t();
    plans.push_back({id,
                     {CreatedV2(id, "Usual order", "UP-3", At(d, "12:00:00")),
                      AssignedEv(id, a, At(d, "12:00:01")), AssignedEv(id, b, At(d, "12:30:00"), a),
                      CompletedEv(id, b, At(d, "13:00:00"))}});
  }
  {  // assigned only: billing never hears of its creation
    auto id = t();
    plans.push_back({id, {AssignedEv(id, a, At(d, "14:00:00"))}});
  }
  {  // created only: priced, nothing posted
    auto id = t();
    plans.push_back({id, {CreatedV1(id, "[UP-5] Never assigned", At(d, "15:00:00"))}});
  }
  {  // completed only
    auto id = t();
    plans.push_back({id, {CompletedEv(id, b, At(d, "16:00:00"))}});
  }
  {  // created as v1 and as v2 (a producer mid-migration), then assigned
    auto id = t();
    plans.push_back({id,
                     {CreatedV1(id, "[UP-7] Both versions", At(d, "17:00:00")),
                      AssignedEv(id, a, At(d, "17:00:01")),
                      CreatedV2(id, "Both versions", "UP-7", At(d, "17:00:00"))}});
  }
  PublishInterleaved(w(), plans);
  ASSERT_TRUE(w().Quiet());

  std::map<std::string, std::pair<int64_t, int64_t>> first_prices;
  for (const auto& p : plans) {
    auto price = w().Price(p.id);
    EXPECT_GE(price.first, 1000) << p.id;
    EXPECT_LE(price.first, 2000) << p.id;
    EXPECT_GE(price.second, 2000) << p.id;
    EXPECT_LE(price.second, 4000) << p.id;
    first_prices[p.id] = price;
  }

  PublishAgain(w(), plans);
  ASSERT_TRUE(w().Quiet());

  // Prices never changed; each task has one price row and one billing.task.priced.
  std::map<std::string, int> priced_events;
  for (const auto& m : w().billing_events->Refresh()) {
    if (m.subject != "billing.task.priced") continue;
    bev1::TaskPriced p;
    ASSERT_TRUE(p.ParseFromString(m.data));
    if (first_prices.count(p.task_id())) {
      ++priced_events[p.task_id()];
      EXPECT_EQ(p.assign_fee_cents(), first_prices[p.task_id()].first);
      EXPECT_EQ(p.completion_reward_cents(), first_prices[p.task_id()].second);
    }
  }
  for (const auto& p : plans) {
    EXPECT_EQ(w().Price(p.id), first_prices[p.id]) << "price of " << p.id << " changed";
    EXPECT_EQ(Count(w().billing_db, "SELECT count(*) FROM task_prices WHERE task_id = $1",
                    {pg::Text(p.id)}),
              1);
    EXPECT_EQ(priced_events[p.id], 1) << "billing.task.priced for " << p.id;
  }

  // One transaction per assigned/completed event, keyed by the event's id, and
  // both copies of every event went through the inbox.
  int64_t expected_debits_a = 0, expected_balance_a = 0, expected_balance_b = 0;
  for (const auto& p : plans) {
    for (const auto& e : p.events) {
      EXPECT_EQ(Count(w().billing_db, "SELECT count(*) FROM processed_events WHERE event_id = $1",
                      {pg::Text(e.id)}),
                1);
      if (e.kind.empty()) continue;
      EXPECT_EQ(
          Count(w().billing_db, "SELECT count(*) FROM transactions WHERE id = $1 AND kind = $2",
                {pg::Text(e.id), pg::Text(e.kind)}),
          1)
          << e.kind << " for " << e.id;
      int64_t amount =
          e.kind == "assign_fee" ? -first_prices[p.id].first : first_prices[p.id].second;
      if (e.account_id == a) {
        expected_balance_a += amount;
        if (e.kind == "assign_fee") ++expected_debits_a;
      } else {
        expected_balance_b += amount;
      }
    }
  }
  EXPECT_EQ(expected_debits_a, 4);
  EXPECT_EQ(Count(w().billing_db,
                  "SELECT count(*) FROM transactions WHERE account_id = $1 AND kind = 'assign_fee'",
                  {pg::Text(a)}),
            expected_debits_a);
  EXPECT_EQ(BalanceOf(*w().stub, w().accountant.token, a), expected_balance_a);
  EXPECT_EQ(BalanceOf(*w().stub, w().accountant.token, b), expected_balance_b);
}

TEST_F(BillingTest, EveryShuffleDebitsTheNewAssigneeAtTheSamePrice) {
  const std::string d = w().NewDays(1);
  const std::string a = w().NewWorker(), b = w().NewWorker();
  const std::string task = events::NewUuid();
  w().SendAll({CreatedV2(task, "Shuffled thrice", "UP-10", At(d, "08:00:00")),
               AssignedEv(task, a, At(d, "08:00:00")), AssignedEv(task, b, At(d, "09:00:00"), a),
               AssignedEv(task, a, At(d, "10:00:00"), b), CompletedEv(task, a, At(d, "11:00:00"))});
  ASSERT_TRUE(w().Quiet());
  auto [fee, reward] = w().Price(task);
  EXPECT_EQ(w().Balance(a), reward - 2 * fee);
  EXPECT_EQ(w().Balance(b), -fee);
  auto log = ByTime(AllTransactions(*w().stub, w().accountant.token, a, d, d));
  ASSERT_THAT(log, SizeIs(3));
  EXPECT_EQ(log[0].kind(), billv1::TRANSACTION_KIND_ASSIGN_FEE);
  EXPECT_EQ(log[0].amount_cents(), -fee);
  EXPECT_EQ(log[1].kind(), billv1::TRANSACTION_KIND_ASSIGN_FEE);
  EXPECT_EQ(log[1].amount_cents(), -fee);
  EXPECT_EQ(log[2].kind(), billv1::TRANSACTION_KIND_COMPLETION_REWARD);
  EXPECT_EQ(log[2].amount_cents(), reward);
}

TEST_F(BillingTest, PostingsBelongToTheBusinessDayTheyHappenedOn) {
  const std::string d = w().NewDays(2);
  const std::string next = AddDays(d, 1);
  const std::string a = w().NewWorker();
  const std::string t1 = events::NewUuid(), t2 = events::NewUuid();
  w().SendAll({AssignedEv(t1, a, d + "T23:59:59.999Z"), AssignedEv(t2, a, At(next, "00:00:00")),
               CompletedEv(t1, a, At(next, "00:00:01"))});
  ASSERT_TRUE(w().Quiet());
  auto log = ByTime(AllTransactions(*w().stub, w().accountant.token, a, d, next));
  ASSERT_THAT(log, SizeIs(3));
  EXPECT_EQ(log[0].business_date(), d);
  EXPECT_EQ(log[1].business_date(), next);
  EXPECT_EQ(log[2].business_date(), next);
  EXPECT_EQ(google::protobuf::util::TimeUtil::ToString(log[0].occurred_at()), d + "T23:59:59.999Z");
  // Earnings per day are checked against the model in the invariants.
}

// Billing is down while every event arrives three times (twice as separate
// stream messages with one id): on start one batch holds all copies.
TEST_F(BillingTest, CopiesInOneBatchAfterARestartApplyOnce) {
  const std::string d = w().NewDays(1);
  const std::string a = w().NewWorker(), b = w().NewWorker();
  ASSERT_TRUE(w().Quiet());
  w().stub.reset();  // or the daemon waits out its drain grace for our connection
  ASSERT_EQ(w().billing->Stop(), 0);
  std::vector<Ev> evs;
  std::vector<std::string> tasks;
  for (int i = 0; i < 5; ++i) {
    auto task = events::NewUuid();
    tasks.push_back(task);
    const std::string& who = i % 2 ? a : b;
    evs.push_back(CompletedEv(task, who, At(d, "09:0" + std::to_string(i) + ":00")));
    evs.push_back(AssignedEv(task, who, At(d, "08:0" + std::to_string(i) + ":00")));
    evs.push_back(CreatedV1(task, "[UP-2" + std::to_string(i) + "] Batch", At(d, "08:00:00")));
  }
  for (const auto& e : evs) w().Send(e);
  for (const auto& e : evs) EXPECT_TRUE(Publish(*w().js, e).duplicate);  // JetStream drops these
  std::this_thread::sleep_for(kPastDuplicateWindow);
  for (const auto& e : evs) EXPECT_FALSE(Publish(*w().js, e).duplicate);
  w().billing->Start();
  w().stub = billv1::BillingService::NewStub(w().billing->channel());
  ASSERT_TRUE(w().Quiet());
  for (const auto& task : tasks) {
    EXPECT_EQ(Count(w().billing_db, "SELECT count(*) FROM transactions WHERE task_id = $1",
                    {pg::Text(task)}),
              2);
  }
}

// A larger random mix: many tasks and workers, shuffles, both created
// versions, events in random order, each delivered twice. The invariants
// after the test carry the checks.
TEST_F(BillingTest, RandomOrderAndDuplicatesKeepTheLedgerExact) {
  const std::string d = w().NewDays(2);
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::vector<std::string> workers;
  for (int i = 0; i < 8; ++i) workers.push_back(w().NewWorker());
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  auto time = [&](int minute) {
    int day = minute / 1440;
    minute %= 1440;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d:00", minute / 60, minute % 60);
    return At(AddDays(d, day), buf);
  };
  std::vector<Ev> evs;
  std::vector<std::string> tasks;
  for (int i = 0; i < 150; ++i) {
    auto task = events::NewUuid();
    tasks.push_back(task);
    int minute = pick(2 * 1440 - 60);
    if (pick(2) == 0) {
      evs.push_back(CreatedV1(task, "[UP-" + std::to_string(1000 + i) + "] Mixed", time(minute)));
    } else {
      evs.push_back(CreatedV2(task, "Mixed", "UP-" + std::to_string(1000 + i), time(minute)));
    }
    std::string assignee = workers[pick(8)];
    evs.push_back(AssignedEv(task, assignee, time(minute)));
    for (int s = pick(3); s > 0; --s) {
      std::string next = workers[pick(8)];
      evs.push_back(AssignedEv(task, next, time(++minute), assignee));
      assignee = next;
    }
    if (pick(3) != 0) evs.push_back(CompletedEv(task, assignee, time(minute + 1 + pick(30))));
  }
  std::shuffle(evs.begin(), evs.end(), rng);
  for (const auto& e : evs) w().Send(e);
  std::this_thread::sleep_for(kPastDuplicateWindow);
  std::shuffle(evs.begin(), evs.end(), rng);
  for (const auto& e : evs) EXPECT_FALSE(Publish(*w().js, e).duplicate);
  ASSERT_TRUE(w().Quiet());
  for (const auto& task : tasks) {
    auto price = w().Price(task);
    EXPECT_NE(price.first, 0) << "task " << task << " not priced";
  }
}

}  // namespace
}  // namespace ates::test
