// BillingService over gRPC: who may read what, argument errors that name the
// field, and the audit log with the task's title and jira id. Accounts come
// from ates-auth (their events reach billing's replica through ACCOUNTS).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/billing_helpers.hpp"

namespace ates::test {
namespace {

using ::ates::common::v1::ROLE_MANAGER;
using ::ates::common::v1::ROLE_WORKER;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string QueryString(const std::string& url, std::string_view sql);

struct People {
  Person worker1, worker2, manager;
};

class BillingAccessTest : public BillingTest {
 protected:
  void SetUp() override {
    BillingTest::SetUp();
    if (HasFatalFailure()) return;
    static People* people = nullptr;
    if (people == nullptr) {
      try {
        auto& auth = *w().auth_stub;
        people = new People{CreatePerson(auth, w().admin_token, "worker-1", ROLE_WORKER),
                            CreatePerson(auth, w().admin_token, "worker-2", ROLE_WORKER),
                            CreatePerson(auth, w().admin_token, "manager-1", ROLE_MANAGER)};
      } catch (const std::exception& e) {
        FAIL() << e.what();
      }
    }
    p_ = people;
  }
  billv1::BillingService::Stub& stub() { return *w().stub; }

  grpc::Status Balance(const std::string& token, const std::string& account,
                       billv1::GetBalanceResponse* out) {
    Call c(token);
    billv1::GetBalanceRequest req;
    req.set_account_id(account);
    return stub().GetBalance(&c.ctx, req, out);
  }
  grpc::Status Transactions(const std::string& token, const std::string& account,
                            const std::string& from, const std::string& to,
                            billv1::ListTransactionsResponse* out, int page_size = 0,
                            const std::string& page_token = "") {
    Call c(token);
    auto req = TransactionsRequest(account, from, to, page_size, page_token);
    return stub().ListTransactions(&c.ctx, req, out);
  }
  grpc::Status Payouts(const std::string& token, const std::string& account,
                       const std::string& from, const std::string& to,
                       billv1::ListPayoutsResponse* out, int page_size = 0) {
    Call c(token);
    billv1::ListPayoutsRequest req;
    req.set_account_id(account);
    req.set_from_date(from);
    req.set_to_date(to);
    req.set_page_size(page_size);
    return stub().ListPayouts(&c.ctx, req, out);
  }
  grpc::Status Earnings(const std::string& token, const std::string& from, const std::string& to,
                        billv1::GetManagementEarningsResponse* out) {
    Call c(token);
    billv1::GetManagementEarningsRequest req;
    req.set_from_date(from);
    req.set_to_date(to);
    return stub().GetManagementEarnings(&c.ctx, req, out);
  }

  People* p_ = nullptr;
};

TEST_F(BillingAccessTest, AWorkerSeesOnlyTheirOwnAccountAndTheAccountantSeesAll) {
  const std::string d = w().NewDays(1);
  const Person& w1 = p_->worker1;
  const Person& w2 = p_->worker2;
  const std::string t1 = events::NewUuid(), t2 = events::NewUuid();
  w().SendAll({CreatedV2(t1, "Own task", "UP-31", At(d, "09:00:00")),
               AssignedEv(t1, w1.id, At(d, "09:00:00")), CompletedEv(t1, w1.id, At(d, "10:00:00")),
               CreatedV2(t2, "Other task", "UP-32", At(d, "09:00:00")),
               AssignedEv(t2, w2.id, At(d, "09:00:00"))});
  ASSERT_TRUE(w().Quiet());
  const int64_t b1 = w().Balance(w1.id), b2 = w().Balance(w2.id);
  EXPECT_LT(b2, 0);

  {  // own balance, by empty id and by own id
    billv1::GetBalanceResponse r;
    ASSERT_TRUE(Balance(w1.token, "", &r).ok());
    EXPECT_EQ(r.account_id(), w1.id);
    EXPECT_EQ(r.balance_cents(), b1);
    ASSERT_TRUE(Balance(w1.token, w1.id, &r).ok());
    EXPECT_EQ(r.balance_cents(), b1);
    billv1::ListTransactionsResponse t;
    ASSERT_TRUE(Transactions(w1.token, "", d, d, &t).ok());
    EXPECT_THAT(t.transactions(), SizeIs(2));
    billv1::ListPayoutsResponse p;
    EXPECT_TRUE(Payouts(w1.token, "", d, d, &p).ok());
  }
  // Another account's data: PERMISSION_DENIED and nothing else, for a worker and a manager.
  for (const Person* who : std::vector<const Person*>{&w1, &p_->manager}) {
    SCOPED_TRACE(who->login);
    billv1::GetBalanceResponse r;
    auto s = Balance(who->token, w2.id, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
    EXPECT_EQ(r.balance_cents(), 0);
    EXPECT_TRUE(r.account_id().empty());
    billv1::ListTransactionsResponse t;
    s = Transactions(who->token, w2.id, d, d, &t);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
    EXPECT_THAT(t.transactions(), IsEmpty());
    s = Transactions(who->token, "*", d, d, &t);  // the company-wide export
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
    EXPECT_THAT(t.transactions(), IsEmpty());
    billv1::ListPayoutsResponse p;
    s = Payouts(who->token, w2.id, d, d, &p);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
    s = Payouts(who->token, "*", d, d, &p);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
    billv1::GetManagementEarningsResponse e;
    s = Earnings(who->token, d, d, &e);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
    EXPECT_THAT(e.days(), IsEmpty());
  }
  // No token, or a forged one: UNAUTHENTICATED.
  for (const std::string& token : {std::string(), std::string("not.a.token")}) {
    billv1::GetBalanceResponse r;
    auto s = Balance(token, w1.id, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  }
  // Accountant and admin read every account and the management dashboard.
  for (const std::string* token :
       std::vector<const std::string*>{&w().accountant.token, &w().admin_token}) {
    billv1::GetBalanceResponse r;
    ASSERT_TRUE(Balance(*token, w1.id, &r).ok());
    EXPECT_EQ(r.balance_cents(), b1);
    ASSERT_TRUE(Balance(*token, w2.id, &r).ok());
    EXPECT_EQ(r.balance_cents(), b2);
    billv1::ListTransactionsResponse t;
    ASSERT_TRUE(Transactions(*token, w2.id, d, d, &t).ok());
    EXPECT_THAT(t.transactions(), SizeIs(1));
    billv1::ListPayoutsResponse p;
    EXPECT_TRUE(Payouts(*token, "*", d, d, &p).ok());
    EXPECT_TRUE(Payouts(*token, w2.id, d, d, &p).ok());
    billv1::GetManagementEarningsResponse e;
    auto s = Earnings(*token, d, d, &e);
    ASSERT_TRUE(s.ok()) << Describe(s);
    ASSERT_THAT(e.days(), SizeIs(1));
    auto [fee1, reward1] = w().Price(t1);
    auto [fee2, reward2] = w().Price(t2);
    EXPECT_EQ(e.days(0).fees_charged_cents(), fee1 + fee2);
    EXPECT_EQ(e.days(0).rewards_paid_cents(), reward1);
    EXPECT_EQ(e.days(0).earnings_cents(), fee1 + fee2 - reward1);
    EXPECT_EQ(e.today().business_date(),
              QueryString(w().billing_db, "SELECT (now() AT TIME ZONE 'UTC')::date::text"));
  }
}

std::string QueryString(const std::string& url, std::string_view sql) {
  return Query(url, sql).String(0, 0);
}

std::vector<std::string> Fields(const grpc::Status& s) { return BadRequestFields(s); }

TEST_F(BillingAccessTest, BadArgumentsAreInvalidArgumentNamingTheField) {
  const std::string& token = w().accountant.token;
  const std::string& id = p_->worker1.id;
  struct Case {
    std::string from, to, field;
  };
  const std::vector<Case> cases = {
      {"2026-02-30", "", "from_date"},
      {"2026-13-01", "2026-01-01", "from_date"},
      {"05.01.2026", "", "from_date"},
      {"2026-01-05", "tomorrow", "to_date"},
      {"2026-01-05", "2026-01-04", "to_date"},  // before from
      {"", "2026-1-5", "to_date"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.from + " .. " + c.to);
    billv1::ListTransactionsResponse t;
    auto s = Transactions(token, id, c.from, c.to, &t);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
    EXPECT_THAT(Fields(s), Contains(c.field));
    billv1::ListPayoutsResponse p;
    s = Payouts(token, "*", c.from, c.to, &p);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
    EXPECT_THAT(Fields(s), Contains(c.field));
    billv1::GetManagementEarningsResponse e;
    s = Earnings(token, c.from, c.to, &e);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
    EXPECT_THAT(Fields(s), Contains(c.field));
  }
  {  // a range too long for the dashboard
    billv1::GetManagementEarningsResponse e;
    auto s = Earnings(token, "2024-01-01", "2026-01-01", &e);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
    EXPECT_THAT(Fields(s), Contains("to_date"));
  }
  {  // account ids and paging
    billv1::GetBalanceResponse r;
    auto s = Balance(token, "not-a-uuid", &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
    EXPECT_THAT(Fields(s), Contains("account_id"));
    billv1::ListTransactionsResponse t;
    s = Transactions(token, id, "", "", &t, -1);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
    EXPECT_THAT(Fields(s), Contains("page_size"));
    s = Transactions(token, id, "", "", &t, 0, "garbage");
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
    EXPECT_THAT(Fields(s), Contains("page_token"));
  }
}

TEST_F(BillingAccessTest, TheAuditLogShowsTitleJiraIdAmountKindAndTime) {
  const std::string d = w().NewDays(1);
  const Person& me = p_->worker1;
  const std::string legacy = events::NewUuid(), modern = events::NewUuid(),
                    unknown = events::NewUuid();
  // The legacy task's created event comes last: the log still shows its title.
  w().SendAll(
      {AssignedEv(legacy, me.id, At(d, "09:00:00")), CompletedEv(legacy, me.id, At(d, "09:30:00")),
       CreatedV2(modern, "Clean the cage", "UP-42", At(d, "10:00:00")),
       AssignedEv(modern, me.id, At(d, "10:00:00")), AssignedEv(unknown, me.id, At(d, "11:00:00")),
       CreatedV1(legacy, "[UP-41] Feed the popugs", At(d, "08:59:00"))});
  ASSERT_TRUE(w().Quiet());
  auto [lfee, lreward] = w().Price(legacy);
  auto [mfee, mreward] = w().Price(modern);
  auto [ufee, ureward] = w().Price(unknown);
  // The worker's own log, one entry per page.
  auto log = ByTime(AllTransactions(stub(), me.token, "", d, d, 1));
  ASSERT_THAT(log, SizeIs(4));
  auto check = [&](const billv1::Transaction& t, billv1::TransactionKind kind, int64_t amount,
                   const std::string& task, const std::string& title, const std::string& jira,
                   const std::string& time) {
    EXPECT_EQ(t.kind(), kind);
    EXPECT_EQ(t.amount_cents(), amount);
    EXPECT_EQ(t.account_id(), me.id);
    EXPECT_EQ(t.task_id(), task);
    EXPECT_EQ(t.task_title(), title);
    EXPECT_EQ(t.task_jira_id(), jira);
    EXPECT_EQ(t.business_date(), d);
    EXPECT_EQ(google::protobuf::util::TimeUtil::ToString(t.occurred_at()), At(d, time));
  };
  check(log[0], billv1::TRANSACTION_KIND_ASSIGN_FEE, -lfee, legacy, "Feed the popugs", "UP-41",
        "09:00:00");
  check(log[1], billv1::TRANSACTION_KIND_COMPLETION_REWARD, lreward, legacy, "Feed the popugs",
        "UP-41", "09:30:00");
  check(log[2], billv1::TRANSACTION_KIND_ASSIGN_FEE, -mfee, modern, "Clean the cage", "UP-42",
        "10:00:00");
  check(log[3], billv1::TRANSACTION_KIND_ASSIGN_FEE, -ufee, unknown, "", "", "11:00:00");
  (void)mreward;
  (void)ureward;
  // The same log for the accountant, in one page; another day is empty.
  auto all = ByTime(AllTransactions(stub(), w().accountant.token, me.id, d, d, 100));
  ASSERT_THAT(all, SizeIs(4));
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].id(), log[i].id());
  EXPECT_THAT(AllTransactions(stub(), me.token, "", AddDays(d, 1), AddDays(d, 1)), IsEmpty());
}

}  // namespace
}  // namespace ates::test
