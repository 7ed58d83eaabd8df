// End of the business day in billing, driven by schedule.billing_cycle.closed
// events published by the test: positive balances paid once and zeroed,
// negative ones carried, one payout and one e-mail per account and date however
// often the close comes, and late postings paid at the next close (ADR 0008).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "support/billing_helpers.hpp"

namespace ates::test {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

struct PayoutRow {
  std::string id;
  int64_t amount = 0;
};

class BillingCloseTest : public BillingTest {
 protected:
  std::vector<PayoutRow> PayoutsOf(const std::string& account, const std::string& date) {
    auto r = Query(w().billing_db,
                   "SELECT id::text, amount_cents FROM payouts WHERE account_id = $1"
                   " AND business_date = $2::date ORDER BY paid_at",
                   {pg::Text(account), pg::Text(date)});
    std::vector<PayoutRow> out;
    for (int i = 0; i < r.Rows(); ++i) out.push_back({r.String(i, 0), r.Int(i, 1)});
    return out;
  }
  int64_t PayoutCount(const std::string& account) {
    return QueryInt(w().billing_db, "SELECT count(*) FROM payouts WHERE account_id = $1",
                    {pg::Text(account)});
  }
  // The e-mail files that went to an account.
  std::vector<std::string> MailsTo(const std::string& account) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(w().mail_dir, ec)) {
      if (f.path().extension() != ".eml") continue;
      auto text = ReadFile(f.path().string());
      if (text.find("<" + BillingWorld::EmailOf(account) + ">") != std::string::npos) {
        out.push_back(text);
      }
    }
    return out;
  }
  // payout.made events on BILLING for an account.
  std::vector<bev1::PayoutMade> PayoutEvents(const std::string& account) {
    std::vector<bev1::PayoutMade> out;
    for (const auto& m : w().billing_events->Refresh()) {
      if (m.subject != "billing.payout.made") continue;
      bev1::PayoutMade p;
      EXPECT_TRUE(p.ParseFromString(m.data));
      if (p.account_id() == account) out.push_back(p);
    }
    return out;
  }
  void Close(const std::string& date, const std::string& id = "") {
    auto r = Publish(*w().js, ClosedEv(date, id));
    EXPECT_FALSE(r.duplicate) << "close of " << date;
  }
  bool MailsSent() {
    return Eventually([&] {
      return QueryInt(w().billing_db, "SELECT count(*) FROM payout_emails WHERE sent_at IS NULL") ==
             0;
    });
  }
};

TEST_F(BillingCloseTest, PaysPositiveBalancesOnceCarriesNegativeOnesEvenWithTheCloseThreeTimes) {
  const std::string d = w().NewDays(2);
  const std::string d2 = AddDays(d, 1);
  const std::string pos = w().NewWorker(), neg = w().NewWorker(), idle = w().NewWorker();
  const std::string t1 = events::NewUuid(), t2 = events::NewUuid(), t3 = events::NewUuid(),
                    t4 = events::NewUuid(), t5 = events::NewUuid();
  w().SendAll({AssignedEv(t1, pos, At(d, "09:00:00")), CompletedEv(t1, pos, At(d, "10:00:00")),
               CompletedEv(t2, pos, At(d, "11:00:00")), AssignedEv(t3, neg, At(d, "09:30:00")),
               AssignedEv(t4, neg, At(d, "09:40:00"))});
  ASSERT_TRUE(w().Quiet());
  const int64_t pos_balance = w().Balance(pos), neg_balance = w().Balance(neg);
  ASSERT_GT(pos_balance, 0);
  ASSERT_LT(neg_balance, 0);

  // The close: once with the scheduler's id, the same message again at once
  // (JetStream drops it), again after the duplicate window (the inbox drops
  // it), and with another id (billing sees the date is closed).
  Close(d);
  EXPECT_TRUE(Publish(*w().js, ClosedEv(d)).duplicate);
  ASSERT_TRUE(w().Quiet());
  std::this_thread::sleep_for(kPastDuplicateWindow);
  Close(d);
  Close(d, events::NewUuid());
  ASSERT_TRUE(w().Quiet());

  auto paid = PayoutsOf(pos, d);
  ASSERT_THAT(paid, SizeIs(1));
  EXPECT_EQ(paid[0].amount, pos_balance);
  EXPECT_EQ(w().Balance(pos), 0);
  EXPECT_THAT(PayoutsOf(neg, d), SizeIs(0));
  EXPECT_EQ(w().Balance(neg), neg_balance) << "a negative balance carries over untouched";
  EXPECT_EQ(PayoutCount(idle), 0);
  EXPECT_EQ(QueryInt(w().billing_db,
                     "SELECT count(*) FROM billing_cycles WHERE business_date = $1::date"
                     " AND close_event_id = $2::uuid",
                     {pg::Text(d), pg::Text(CloseEventId(d))}),
            1);

  // Audit log, event and e-mail of the payout.
  auto log = AllTransactions(*w().stub, w().accountant.token, pos, d, d);
  ASSERT_THAT(log, SizeIs(4));
  EXPECT_EQ(log.back().kind(), billv1::TRANSACTION_KIND_PAYOUT);
  EXPECT_EQ(log.back().amount_cents(), -pos_balance);
  EXPECT_EQ(log.back().id(), paid[0].id);
  auto made = PayoutEvents(pos);
  ASSERT_THAT(made, SizeIs(1));
  EXPECT_EQ(made[0].payout_id(), paid[0].id);
  EXPECT_EQ(made[0].amount_cents(), pos_balance);
  EXPECT_EQ(made[0].business_date(), d);
  ASSERT_TRUE(MailsSent());
  auto mails = MailsTo(pos);
  ASSERT_THAT(mails, SizeIs(1));
  EXPECT_THAT(mails[0], HasSubstr("$" + Dollars(pos_balance)));
  EXPECT_THAT(mails[0], HasSubstr(d));
  EXPECT_THAT(mails[0], HasSubstr(paid[0].id));
  EXPECT_TRUE(std::filesystem::exists(w().mail_dir + "/payout-" + paid[0].id + ".eml"));
  {
    Call c(w().accountant.token);
    billv1::ListPayoutsRequest req;
    req.set_account_id(pos);
    req.set_from_date(d);
    req.set_to_date(d2);
    billv1::ListPayoutsResponse resp;
    ASSERT_TRUE(w().stub->ListPayouts(&c.ctx, req, &resp).ok());
    ASSERT_THAT(resp.payouts(), SizeIs(1));
    EXPECT_EQ(resp.payouts(0).amount_cents(), pos_balance);
    EXPECT_TRUE(resp.payouts(0).email_sent());
  }

  // Next day: the negative account earns more than it owes and is paid its
  // balance including the carried debt; the paid one now owes.
  w().SendAll({CompletedEv(t3, neg, At(d2, "09:00:00")), CompletedEv(t4, neg, At(d2, "09:10:00")),
               AssignedEv(t5, pos, At(d2, "09:20:00"))});
  ASSERT_TRUE(w().Quiet());
  const int64_t neg_due = w().Balance(neg);
  ASSERT_GT(neg_due, 0);
  Close(d2);
  ASSERT_TRUE(w().Quiet());
  auto neg_paid = PayoutsOf(neg, d2);
  ASSERT_THAT(neg_paid, SizeIs(1));
  EXPECT_EQ(neg_paid[0].amount, neg_due);
  EXPECT_EQ(neg_due, neg_balance + w().Price(t3).second + w().Price(t4).second);
  EXPECT_EQ(w().Balance(neg), 0);
  EXPECT_EQ(w().Balance(pos), -w().Price(t5).first);

  // The first close replayed days later, by its own id and by another: nothing.
  std::this_thread::sleep_for(kPastDuplicateWindow);
  Close(d);
  Close(d, events::NewUuid());
  ASSERT_TRUE(w().Quiet());
  EXPECT_EQ(PayoutCount(pos), 1);
  EXPECT_EQ(PayoutCount(neg), 1);
  ASSERT_TRUE(MailsSent());
  EXPECT_THAT(MailsTo(pos), SizeIs(1));
  EXPECT_THAT(MailsTo(neg), SizeIs(1));
  EXPECT_THAT(PayoutEvents(neg), SizeIs(1));
}

// ADR 0008: an event that happened before midnight but arrives after its day
// was closed is posted to the next open day and paid at the next close.
TEST_F(BillingCloseTest, ALatePostingGoesToTheNextDayAndIsPaidAtTheNextClose) {
  const std::string d = w().NewDays(2);
  const std::string d2 = AddDays(d, 1);
  const std::string late = w().NewWorker(), on_time = w().NewWorker();
  const std::string t1 = events::NewUuid(), t2 = events::NewUuid();
  w().Send(CompletedEv(t1, on_time, At(d, "20:00:00")));
  ASSERT_TRUE(w().Quiet());
  Close(d);
  ASSERT_TRUE(w().Quiet());
  ASSERT_THAT(PayoutsOf(on_time, d), SizeIs(1));

  Ev completed = CompletedEv(t2, late, At(d, "23:59:30"));
  completed.business_date = d2;  // what the model expects
  w().Send(completed);
  ASSERT_TRUE(w().Quiet());
  const int64_t reward = w().Price(t2).second;
  EXPECT_EQ(w().Balance(late), reward) << "the late money is in the balance";
  EXPECT_THAT(PayoutsOf(late, d), SizeIs(0));
  auto log = AllTransactions(*w().stub, w().accountant.token, late, d, d2);
  ASSERT_THAT(log, SizeIs(1));
  EXPECT_EQ(log[0].business_date(), d2);
  EXPECT_EQ(google::protobuf::util::TimeUtil::ToString(log[0].occurred_at()), At(d, "23:59:30"))
      << "the audit log keeps when it really happened";

  Close(d2);
  ASSERT_TRUE(w().Quiet());
  auto paid = PayoutsOf(late, d2);
  ASSERT_THAT(paid, SizeIs(1));
  EXPECT_EQ(paid[0].amount, reward);
  EXPECT_EQ(w().Balance(late), 0);
  EXPECT_THAT(PayoutsOf(on_time, d2), SizeIs(0));
  ASSERT_TRUE(MailsSent());
  EXPECT_THAT(MailsTo(late), SizeIs(1));
}

// Postings of the next day can reach billing before the close of the day
// before (just after midnight). The close pays what was due at the end of its
// day, whatever the balance is by the time the close arrives (ADR 0008: the
// amount due is the balance minus the postings of later days).
TEST_F(BillingCloseTest, TheClosePaysWhatWasDueAtMidnightNotTheBalanceWhenItArrives) {
  const std::string d = w().NewDays(2);
  const std::string d2 = AddDays(d, 1);
  const std::string deep = w().NewWorker(), shallow = w().NewWorker(), later = w().NewWorker();
  const std::string r1 = events::NewUuid(), r2 = events::NewUuid(), f3 = events::NewUuid(),
                    r4 = events::NewUuid();
  std::vector<Ev> evs = {
      CompletedEv(r1, deep, At(d, "15:00:00")), CompletedEv(r2, shallow, At(d, "15:00:00")),
      AssignedEv(f3, shallow, At(d2, "00:00:10")), AssignedEv(r4, later, At(d, "16:00:00")),
      CompletedEv(r4, later, At(d2, "00:00:20"))};
  // `deep` owes more on the next day than it earned today: its balance is
  // negative when the close arrives, but the day itself ended positive.
  std::vector<std::string> next_day_fees;
  for (int i = 0; i < 5; ++i) {
    next_day_fees.push_back(events::NewUuid());
    evs.push_back(AssignedEv(next_day_fees.back(), deep, At(d2, "00:01:0" + std::to_string(i))));
  }
  w().SendAll(evs);
  ASSERT_TRUE(w().Quiet());
  int64_t deep_next = 0;
  for (const auto& t : next_day_fees) deep_next -= w().Price(t).first;
  const int64_t reward1 = w().Price(r1).second;
  ASSERT_LT(w().Balance(deep), 0);

  Close(d);
  ASSERT_TRUE(w().Quiet());
  auto deep_paid = PayoutsOf(deep, d);
  ASSERT_THAT(deep_paid, SizeIs(1)) << "the day ended with a positive balance";
  EXPECT_EQ(deep_paid[0].amount, reward1);
  EXPECT_EQ(w().Balance(deep), deep_next);
  auto shallow_paid = PayoutsOf(shallow, d);
  ASSERT_THAT(shallow_paid, SizeIs(1));
  EXPECT_EQ(shallow_paid[0].amount, w().Price(r2).second);
  EXPECT_EQ(w().Balance(shallow), -w().Price(f3).first);
  EXPECT_THAT(PayoutsOf(later, d), SizeIs(0)) << "the day ended negative";
  auto [fee4, reward4] = w().Price(r4);
  EXPECT_EQ(w().Balance(later), reward4 - fee4);

  Close(d2);
  ASSERT_TRUE(w().Quiet());
  EXPECT_THAT(PayoutsOf(deep, d2), SizeIs(0));
  EXPECT_THAT(PayoutsOf(shallow, d2), SizeIs(0));
  if (reward4 > fee4) {
    auto later_paid = PayoutsOf(later, d2);
    ASSERT_THAT(later_paid, SizeIs(1));
    EXPECT_EQ(later_paid[0].amount, reward4 - fee4);
  }
  EXPECT_EQ(w().Balance(later), 0);
}

// A scheduler catching up sends several closes at once: each day pays what
// belonged to it.
TEST_F(BillingCloseTest, ClosesArrivingTogetherPayEachDayItsOwnPostings) {
  const std::string d = w().NewDays(3);
  const std::string d2 = AddDays(d, 1), d3 = AddDays(d, 2);
  const std::string a = w().NewWorker();
  const std::string t1 = events::NewUuid(), t2 = events::NewUuid();
  w().SendAll({CompletedEv(t1, a, At(d, "12:00:00")), CompletedEv(t2, a, At(d2, "12:00:00"))});
  ASSERT_TRUE(w().Quiet());
  Close(d);
  Close(d2);
  Close(d3);
  ASSERT_TRUE(w().Quiet());
  auto p1 = PayoutsOf(a, d), p2 = PayoutsOf(a, d2);
  ASSERT_THAT(p1, SizeIs(1));
  ASSERT_THAT(p2, SizeIs(1));
  EXPECT_EQ(p1[0].amount, w().Price(t1).second);
  EXPECT_EQ(p2[0].amount, w().Price(t2).second);
  EXPECT_THAT(PayoutsOf(a, d3), SizeIs(0));
  EXPECT_EQ(w().Balance(a), 0);
  // ListPayouts pages through both, oldest first.
  std::vector<std::string> listed;
  std::string token;
  do {
    Call c(w().accountant.token);
    billv1::ListPayoutsRequest req;
    req.set_account_id(a);
    req.set_from_date(d);
    req.set_to_date(d3);
    req.set_page_size(1);
    req.set_page_token(token);
    billv1::ListPayoutsResponse resp;
    auto s = w().stub->ListPayouts(&c.ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << Describe(s);
    ASSERT_LE(resp.payouts_size(), 1);
    for (const auto& p : resp.payouts()) {
      listed.push_back(p.business_date());
      EXPECT_EQ(p.account_login(), BillingWorld::LoginOf(a));  // from billing's replica
      EXPECT_EQ(p.account_name(), "Test " + BillingWorld::LoginOf(a));
    }
    token = resp.next_page_token();
  } while (!token.empty() && listed.size() < 5);
  EXPECT_EQ(listed, (std::vector<std::string>{d, d2}));
  {  // AIP-158: a size above 500 is capped; the first page's token is bound to its filter.
    auto payouts = [&](const std::string& account, int size, const std::string& page_token,
                       billv1::ListPayoutsResponse* out) {
      Call c(w().accountant.token);
      billv1::ListPayoutsRequest req;
      req.set_account_id(account);
      req.set_from_date(d);
      req.set_to_date(d3);
      req.set_page_size(size);
      req.set_page_token(page_token);
      return w().stub->ListPayouts(&c.ctx, req, out);
    };
    billv1::ListPayoutsResponse big, first, other;
    auto s = payouts(a, 100000, "", &big);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(big.payouts_size(), 2);
    ASSERT_TRUE(payouts(a, 1, "", &first).ok());
    ASSERT_FALSE(first.next_page_token().empty());
    s = payouts("*", 1, first.next_page_token(), &other);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
    EXPECT_THAT(BadRequestFields(s), ::testing::Contains("page_token"));
    EXPECT_EQ(other.payouts_size(), 0);
  }
  ASSERT_TRUE(MailsSent());
  EXPECT_THAT(MailsTo(a), SizeIs(2));
}

// Issue 9: a close for a day after today (by the database's clock) is poison:
// offered again up to max_deliver times, then parked in dead_letters. It pays
// nothing and closes nothing, not even the earlier open days; the consumer
// goes on with the next close.
TEST_F(BillingCloseTest, ACloseForAFutureDayIsDeadLetteredAndPaysNothing) {
  const std::string d = w().NewDays(1);
  const std::string a = w().NewWorker();
  const std::string t1 = events::NewUuid();
  w().Send(CompletedEv(t1, a, At(d, "12:00:00")));
  ASSERT_TRUE(w().Quiet());
  const int64_t balance = w().Balance(a);
  ASSERT_GT(balance, 0);
  const std::string future =
      Query(w().billing_db, "SELECT to_char((now() AT TIME ZONE 'UTC')::date + 2, 'YYYY-MM-DD')")
          .String(0, 0);

  Close(future);
  auto dead_reason = [&] {
    auto r = Query(w().billing_db,
                   "SELECT reason FROM dead_letters WHERE consumer = 'billing_schedule'"
                   " AND event_id = $1",
                   {pg::Text(CloseEventId(future))});
    return r.Rows() == 0 ? std::string() : r.String(0, 0);
  };
  ASSERT_TRUE(Eventually([&] { return !dead_reason().empty(); }, 40s))
      << "the future close was not dead-lettered";
  EXPECT_THAT(dead_reason(), HasSubstr("future business day"));
  EXPECT_THAT(dead_reason(), HasSubstr(future));
  ASSERT_TRUE(w().Quiet());
  EXPECT_EQ(QueryInt(w().billing_db,
                     "SELECT count(*) FROM billing_cycles WHERE business_date >= $1::date",
                     {pg::Text(d)}),
            0)
      << "neither the future day nor the open day before it may be closed";
  EXPECT_EQ(PayoutCount(a), 0);
  EXPECT_EQ(w().Balance(a), balance);

  // The next close is applied as usual.
  Close(d);
  ASSERT_TRUE(w().Quiet());
  auto paid = PayoutsOf(a, d);
  ASSERT_THAT(paid, SizeIs(1));
  EXPECT_EQ(paid[0].amount, balance);
}

// Issue 9: with two billing replicas on one database and one durable consumer,
// the close of a later day can be applied before the close of the day before
// (each replica fetched one). Days still close oldest first: the later close
// first closes the earlier open day under that day's own close id, so each day
// pays what was due at its end, and the earlier close, when it comes, pays nothing.
TEST_F(BillingCloseTest, TwoReplicasCloseDaysOldestFirstWhicheverCloseIsAppliedFirst) {
  Daemon second(BillingDaemon("ates-billing-2", w().billing_db, w().auth->target(), w().mail_dir));
  second.Start();
  // Posts a reward for `a` on both days and a reward then a fee for `b`.
  struct Days {
    std::string d, d2, a, b;
    int64_t a1 = 0, a2 = 0, b1 = 0, b_fee = 0;
  };
  auto post = [&] {
    Days x;
    x.d = w().NewDays(2);
    x.d2 = AddDays(x.d, 1);
    x.a = w().NewWorker();
    x.b = w().NewWorker();
    const std::string t1 = events::NewUuid(), t2 = events::NewUuid(), t3 = events::NewUuid(),
                      t4 = events::NewUuid();
    w().SendAll(
        {CompletedEv(t1, x.a, At(x.d, "10:00:00")), CompletedEv(t2, x.a, At(x.d2, "10:00:00")),
         CompletedEv(t3, x.b, At(x.d, "11:00:00")), AssignedEv(t4, x.b, At(x.d2, "11:00:00"))});
    EXPECT_TRUE(w().Quiet());
    x.a1 = w().Price(t1).second;
    x.a2 = w().Price(t2).second;
    x.b1 = w().Price(t3).second;
    x.b_fee = w().Price(t4).first;
    return x;
  };
  auto expect_each_day_paid_its_own = [&](const Days& x) {
    auto a_d = PayoutsOf(x.a, x.d), a_d2 = PayoutsOf(x.a, x.d2), b_d = PayoutsOf(x.b, x.d);
    ASSERT_THAT(a_d, SizeIs(1)) << "the earlier day was paid at its own close";
    EXPECT_EQ(a_d[0].amount, x.a1);
    ASSERT_THAT(a_d2, SizeIs(1));
    EXPECT_EQ(a_d2[0].amount, x.a2);
    ASSERT_THAT(b_d, SizeIs(1));
    EXPECT_EQ(b_d[0].amount, x.b1);
    EXPECT_THAT(PayoutsOf(x.b, x.d2), SizeIs(0));
    EXPECT_EQ(w().Balance(x.a), 0);
    EXPECT_EQ(w().Balance(x.b), -x.b_fee);
    EXPECT_EQ(QueryInt(w().billing_db,
                       "SELECT count(*) FROM billing_cycles WHERE business_date = $1::date"
                       " AND close_event_id = $2::uuid",
                       {pg::Text(x.d), pg::Text(CloseEventId(x.d))}),
              1);
  };

  // The later close applied first, for certain.
  Days first = post();
  Close(first.d2);
  ASSERT_TRUE(w().Quiet());
  Close(first.d);
  ASSERT_TRUE(w().Quiet());
  expect_each_day_paid_its_own(first);

  // Both closes at once, in the wrong order: the replicas race for them.
  Days racing = post();
  Close(racing.d2);
  Close(racing.d);
  ASSERT_TRUE(w().Quiet());
  expect_each_day_paid_its_own(racing);
  EXPECT_EQ(second.Stop(), 0);
}

}  // namespace
}  // namespace ates::test
