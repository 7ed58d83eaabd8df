// The oracle itself: after a small clean day the reconciliation finds
// nothing; after the ledger, analytics and ates-tasks are tampered with by
// hand, it counts exactly what was done to them.
#include "faults/reconcile.hpp"

#include <gtest/gtest.h>

#include <iostream>

#include "ates/platform/pg.hpp"
#include "faults/fault_day.hpp"
#include "support/test_stack.hpp"

namespace ates::test::faults {
namespace {

// One fee posting gone, with its entries (and its balance left as it was).
constexpr std::string_view kDropFee =
    "WITH t AS (SELECT id FROM transactions WHERE kind = 'assign_fee' ORDER BY seq LIMIT 1),"
    " e AS (DELETE FROM ledger_entries WHERE transaction_id IN (SELECT id FROM t))"
    " DELETE FROM transactions WHERE id IN (SELECT id FROM t)";
// A reward posted a second time under an id of its own, with both entries.
constexpr std::string_view kDoubleReward =
    "WITH t AS (SELECT * FROM transactions WHERE kind = 'completion_reward' ORDER BY seq LIMIT 1),"
    " n AS (INSERT INTO transactions (id, kind, account_id, task_id, amount_cents, business_date,"
    "  occurred_at) SELECT gen_random_uuid(), kind, account_id, task_id, amount_cents,"
    "  business_date, occurred_at FROM t RETURNING id, account_id, amount_cents)"
    " INSERT INTO ledger_entries (transaction_id, account_id, amount_cents)"
    " SELECT id, account_id, amount_cents FROM n"
    " UNION ALL SELECT id, '00000000-0000-0000-0000-000000000001'::uuid, -amount_cents FROM n";
// A fee of the wrong amount (entries changed with it, so double entry holds).
constexpr std::string_view kWrongFee =
    "WITH t AS (UPDATE transactions SET amount_cents = amount_cents - 1 WHERE id ="
    "  (SELECT id FROM transactions WHERE kind = 'assign_fee' ORDER BY seq DESC LIMIT 1)"
    "  RETURNING id, account_id)"
    " UPDATE ledger_entries e SET amount_cents = e.amount_cents"
    "  + CASE WHEN e.account_id = t.account_id THEN -1 ELSE 1 END"
    " FROM t WHERE e.transaction_id = t.id";
// A payout nobody was due (every balance of this small day is negative or
// was paid already), without its transaction.
constexpr std::string_view kStrayPayout =
    "INSERT INTO payouts (id, account_id, business_date, amount_cents, paid_at)"
    " SELECT gen_random_uuid(), t.account_id, t.business_date + 1, 100, now()"
    " FROM transactions t WHERE t.kind = 'assign_fee' ORDER BY t.seq LIMIT 1";
constexpr std::string_view kAnalyticsOff =
    "UPDATE day_earnings SET fees_cents = fees_cents + 1"
    " WHERE business_date = (SELECT max(business_date) FROM day_earnings)";
// A reassignment committed without its event.
constexpr std::string_view kTaskChanged =
    "UPDATE tasks SET version = version + 1 WHERE id = (SELECT id FROM tasks ORDER BY id LIMIT 1)";

TEST(ReconcileOracle, CountsWhatWasDoneToTheLedgerAnalyticsAndTasksByHand) {
  System system(SystemPlan{});
  system.StartAll();
  JsClient js(TestStack::Get().nats_url());
  DayPlan plan;
  plan.admins = 0;
  plan.managers = 1;
  plan.accountants = 1;
  plan.workers = 4;
  plan.tasks = 200;
  plan.burst = 100;
  plan.callers = 4;
  plan.completers = 2;
  Day day(system, plan, [](const std::string& s) { std::cout << "[oracle] " << s << std::endl; });
  day.Prepare();
  day.Start();
  ASSERT_EQ(day.Join(), "");
  std::string why;
  ASSERT_TRUE(Settle(system, js, std::chrono::seconds(120), &why)) << why;
  ReconcileInput input{js.Read("TASKS"), system.Db("ates-tasks"), system.Db("ates-billing"),
                       system.Db("ates-analytics")};

  Reconciliation clean = Reconcile(input);
  EXPECT_TRUE(clean.Clean()) << clean.Summary();
  EXPECT_EQ(clean.Events(), clean.postings);
  EXPECT_GE(clean.assigned_events, plan.tasks);
  EXPECT_GT(clean.completed_events, 0);
  EXPECT_EQ(clean.tasks_created, plan.tasks);
  EXPECT_EQ(clean.closed_days, 1);

  {
    pg::Connection billing(system.Db("ates-billing"));
    for (auto sql : {kDropFee, kDoubleReward, kWrongFee, kStrayPayout}) billing.Exec(sql);
    pg::Connection(system.Db("ates-analytics")).Exec(kAnalyticsOff);
    pg::Connection(system.Db("ates-tasks")).Exec(kTaskChanged);
  }
  Reconciliation r = Reconcile(input);
  std::cout << "[oracle] tampered: " << r.Summary() << std::endl;
  for (const auto& p : r.problems) std::cout << "  " << p << "\n";
  EXPECT_EQ(r.missing, 1);
  EXPECT_EQ(r.doubled, 1);
  EXPECT_EQ(r.orphans, 1);
  EXPECT_EQ(r.wrong, 1);
  EXPECT_EQ(r.unpublished, 1);
  EXPECT_EQ(r.postings, clean.postings);  // one gone, one more
  EXPECT_GE(r.ledger_errors, 1) << "balances no longer match their entries";
  EXPECT_GE(r.analytics_diffs, 1);
  EXPECT_GE(r.payout_errors, 1) << "a payout without its transaction, on a day not closed";
  EXPECT_FALSE(r.Clean());
}

}  // namespace
}  // namespace ates::test::faults
