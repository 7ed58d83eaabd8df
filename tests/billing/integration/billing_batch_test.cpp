// The ledger's set-based apply, one consumer batch at a time (ADR 29): billing
// is stopped while the events reach TASKS, so on start one batch holds them
// all. Repeated events apply once, a batch over several accounts sums each
// balance exactly, and a poison event is isolated and parked while the rest of
// its batch is posted. The ledger invariants are checked after every test.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "support/billing_helpers.hpp"

namespace ates::test {
namespace {

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new BillingWorldEnvironment);

class BillingBatchTest : public BillingTest {
 protected:
  // Runs `publish` while billing is stopped, then starts billing and waits
  // until it has applied everything.
  void WhileBillingIsDown(const std::function<void()>& publish) {
    ASSERT_TRUE(w().Quiet());
    w().stub.reset();  // or the daemon waits out its drain grace for our connection
    ASSERT_EQ(w().billing->Stop(), 0);
    publish();
    w().billing->Start();
    w().stub = billv1::BillingService::NewStub(w().billing->channel());
    ASSERT_TRUE(w().Quiet());
  }

  int64_t Postings(const std::string& event_id) {
    return QueryInt(w().billing_db, "SELECT count(*) FROM transactions WHERE id = $1",
                    {pg::Text(event_id)});
  }

  // What `events` must have moved on `account`, at the prices billing stored.
  int64_t Expected(const std::vector<Ev>& events, const std::string& account) {
    int64_t sum = 0;
    for (const auto& e : events) {
      if (e.account_id != account) continue;
      auto [fee, reward] = w().Price(e.task_id);
      EXPECT_NE(fee, 0) << "task " << e.task_id << " not priced";
      sum += e.kind == "assign_fee" ? -fee : reward;
    }
    return sum;
  }
};

TEST_F(BillingBatchTest, AnEventRepeatedInOneBatchIsPostedOnce) {
  const std::string d = w().NewDays(1);
  const std::string worker = w().NewWorker();
  const std::string task = events::NewUuid();
  Ev assigned = AssignedEv(task, worker, At(d, "10:00:00"));
  WhileBillingIsDown([&] {
    w().Send(assigned);
    for (int copy = 0; copy < 3; ++copy) {
      std::this_thread::sleep_for(kPastDuplicateWindow);  // a new stream message each time
      EXPECT_FALSE(Publish(*w().js, assigned).duplicate);
    }
  });
  EXPECT_EQ(Postings(assigned.id), 1);
  EXPECT_EQ(w().Balance(worker), -w().Price(task).first);
}

TEST_F(BillingBatchTest, ABatchOverSeveralAccountsSumsEachBalanceExactly) {
  const std::string d = w().NewDays(1);
  std::vector<std::string> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(w().NewWorker());
  std::vector<Ev> evs;
  for (int t = 0; t < 24; ++t) {
    const std::string task = events::NewUuid();
    const std::string& first = workers[t % 4];
    const std::string& second = workers[(t * 3 + 1) % 4];
    evs.push_back(AssignedEv(task, first, At(d, "09:00:00")));
    evs.push_back(AssignedEv(task, second, At(d, "09:30:00"), first));
    if (t % 3 != 0) evs.push_back(CompletedEv(task, second, At(d, "11:00:00")));
  }
  WhileBillingIsDown([&] {
    w().SendAll(evs);
    std::this_thread::sleep_for(kPastDuplicateWindow);
    for (const auto& e : evs) EXPECT_FALSE(Publish(*w().js, e).duplicate);
  });
  for (const auto& e : evs) EXPECT_EQ(Postings(e.id), 1) << e.kind << " " << e.id;
  for (const auto& worker : workers) {
    EXPECT_EQ(w().Balance(worker), Expected(evs, worker)) << "worker " << worker;
  }
}

// An assignment time PostgreSQL refuses fails the batch's statement: the
// consumer applies the batch's events one by one, posts the good ones and
// parks the poison one at its second attempt (the world's max_deliver).
TEST_F(BillingBatchTest, APoisonEventInABatchIsParkedAndTheRestArePosted) {
  const std::string d = w().NewDays(1);
  const std::string worker = w().NewWorker();
  std::vector<Ev> good;
  for (int i = 0; i < 6; ++i) good.push_back(AssignedEv(events::NewUuid(), worker, At(d)));
  tev1::TaskAssigned bad;
  bad.set_task_id(events::NewUuid());
  bad.set_assignee_id(worker);
  bad.mutable_assigned_at()->set_seconds(int64_t{1} << 50);  // past year 9999
  Ev poison = MakeEv("tasks.task.assigned", events::NewUuid(), 1, bad.SerializeAsString());
  WhileBillingIsDown([&] {
    for (size_t i = 0; i < good.size(); ++i) {
      w().Send(good[i]);
      if (i == 2) Publish(*w().js, poison);  // in the middle of the batch
    }
  });
  for (const auto& e : good) EXPECT_EQ(Postings(e.id), 1);
  EXPECT_EQ(w().Balance(worker), Expected(good, worker));
  ASSERT_TRUE(Eventually(
      [&] {
        return QueryInt(w().billing_db,
                        "SELECT count(*) FROM dead_letters WHERE event_id = $1"
                        " AND reason LIKE 'handler failed%'",
                        {pg::Text(poison.id)}) == 1;
      },
      30s))
      << "the poison event was not parked";
  EXPECT_EQ(Postings(poison.id), 0);
}

}  // namespace
}  // namespace ates::test
