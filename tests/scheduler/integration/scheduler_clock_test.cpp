// The real ates-scheduler daemon with a frozen clock (schedule.now_override):
// missed days closed oldest first with date-derived event ids, one event per
// date with two replicas, CloseBillingCycle admin-only and idempotent, and an
// end-to-end pass scheduler -> billing payout. Every test uses its own dates
// (the SCHEDULE stream is shared by the whole binary).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "ates/scheduler/v1/scheduler_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "support/billing_helpers.hpp"
#include "support/scheduler_helpers.hpp"

namespace ates::test {
namespace {

namespace schedv1 = ::ates::scheduler::v1;
using ::ates::common::v1::ROLE_ACCOUNTANT;
using ::ates::common::v1::ROLE_WORKER;
using ::testing::Contains;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::SizeIs;

std::vector<std::string> Days(const std::string& first, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(AddDays(first, i));
  return out;
}

struct CloseMessage {
  std::string date;
  StreamMessage msg;
  sev1::BillingCycleClosed body;
};

class SchedulerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      auto& stack = TestStack::Get();
      js_ = new JsClient(stack.nats_url());
      auth_ = new Daemon(AuthDaemon("ates-auth", stack.CreateDatabase("sched_auth"),
                                    {{"ATES_NATS_DUPLICATE_WINDOW", kDuplicateWindow}}));
      auth_->Start();
      auth_stub_ = authv1::AuthService::NewStub(auth_->channel()).release();
      admin_ = new std::string(Login(*auth_stub_, kAdminLogin, kAdminPassword));
      worker_ = new Person(CreatePerson(*auth_stub_, *admin_, "sched-worker", ROLE_WORKER));
      accountant_ =
          new Person(CreatePerson(*auth_stub_, *admin_, "sched-accountant", ROLE_ACCOUNTANT));
      if (!Eventually([] { return js_->StreamExists("SCHEDULE"); })) {
        throw std::runtime_error("no SCHEDULE stream");
      }
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete auth_stub_;
    auth_stub_ = nullptr;
    delete auth_;
    auth_ = nullptr;
    delete js_;
    js_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  // The close messages on SCHEDULE for `dates`, in stream order.
  static std::vector<CloseMessage> ClosesFor(const std::vector<std::string>& dates) {
    std::map<std::string, std::string> by_id;
    for (const auto& d : dates) by_id[CloseEventId(d)] = d;
    std::vector<CloseMessage> out;
    for (auto& m : js_->Read("SCHEDULE")) {
      auto it = by_id.find(m.Header(events::kHeaderMsgId));
      if (it == by_id.end()) continue;
      CloseMessage c{it->second, m, {}};
      EXPECT_TRUE(c.body.ParseFromString(m.data));
      out.push_back(std::move(c));
    }
    return out;
  }
  static std::vector<std::string> DatesOf(const std::vector<CloseMessage>& closes) {
    std::vector<std::string> out;
    for (const auto& c : closes) out.push_back(c.date);
    return out;
  }
  // Waits until the scheduler's outbox is published, then a little longer so a
  // second copy (if one were coming) would be on the stream too.
  static void Settle(const std::string& db) {
    EXPECT_TRUE(Eventually([&] {
      return QueryInt(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0;
    }));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }

  grpc::Status CloseDay(Daemon& scheduler, const std::string& token, const std::string& date,
                        schedv1::CloseBillingCycleResponse* out) {
    auto stub = schedv1::SchedulerService::NewStub(scheduler.channel());
    Call c(token);
    schedv1::CloseBillingCycleRequest req;
    req.set_business_date(date);
    return stub->CloseBillingCycle(&c.ctx, req, out);
  }

  static inline std::string* setup_error_ = nullptr;
  static inline JsClient* js_ = nullptr;
  static inline Daemon* auth_ = nullptr;
  static inline authv1::AuthService::Stub* auth_stub_ = nullptr;
  static inline std::string* admin_ = nullptr;
  static inline Person* worker_ = nullptr;
  static inline Person* accountant_ = nullptr;
};

TEST_F(SchedulerTest, MissedDaysAreClosedOnceEachOldestFirstWithDateDerivedIds) {
  const std::string db = TestStack::Get().CreateDatabase("sched_catchup");
  const auto dates = Days("2025-03-01", 6);
  {
    Daemon s(
        SchedulerDaemon("ates-scheduler", db, auth_->target(), dates[0], "2025-03-05T10:00:00Z"));
    s.Start();
    Settle(db);
    auto closes = ClosesFor(dates);
    EXPECT_THAT(DatesOf(closes), ElementsAreArray(Days(dates[0], 4)))
        << "one close per missed day, oldest first, not today";
    for (const auto& c : closes) {
      EXPECT_EQ(c.msg.subject, "schedule.billing_cycle.closed");
      EXPECT_EQ(c.msg.Header(events::kHeaderMsgId),
                events::NameUuid("schedule.billing_cycle.closed:" + c.date));
      EXPECT_EQ(c.msg.Header(events::kHeaderName), "schedule.billing_cycle.closed");
      EXPECT_EQ(c.msg.Header(events::kHeaderVersion), "1");
      EXPECT_EQ(c.body.business_date(), c.date);
      EXPECT_EQ(c.body.time_zone(), "UTC");
      EXPECT_FALSE(c.body.manual());
    }
    EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM closed_days"), 4);
    EXPECT_EQ(s.Stop(), 0);
  }
  {  // two days later (just after midnight): the two new days, nothing twice
    Daemon s(
        SchedulerDaemon("ates-scheduler", db, auth_->target(), dates[0], "2025-03-07T00:00:01Z"));
    s.Start();
    Settle(db);
    EXPECT_THAT(DatesOf(ClosesFor(dates)), ElementsAreArray(dates));
    EXPECT_EQ(s.Stop(), 0);
  }
  {  // the same instant again, well after the duplicate window: nothing new
    std::this_thread::sleep_for(kPastDuplicateWindow);
    Daemon s(
        SchedulerDaemon("ates-scheduler", db, auth_->target(), dates[0], "2025-03-07T00:00:01Z"));
    s.Start();
    Settle(db);
    EXPECT_THAT(DatesOf(ClosesFor(dates)), ElementsAreArray(dates));
    EXPECT_EQ(s.Stop(), 0);
  }
}

TEST_F(SchedulerTest, TheBusinessDayIsTheDateInTheConfiguredZone) {
  const std::string db = TestStack::Get().CreateDatabase("sched_zone");
  const auto dates = Days("2025-03-20", 4);
  // 16:00 UTC on the 22nd is 01:00 on the 23rd in Tokyo: the 22nd is over there.
  Daemon s(SchedulerDaemon("ates-scheduler", db, auth_->target(), dates[0], "2025-03-22T16:00:00Z",
                           {{"ATES_BUSINESS_DAY_TIME_ZONE", "Asia/Tokyo"}}));
  s.Start();
  Settle(db);
  auto closes = ClosesFor(dates);
  EXPECT_THAT(DatesOf(closes), ElementsAreArray(Days(dates[0], 3)));
  for (const auto& c : closes) EXPECT_EQ(c.body.time_zone(), "Asia/Tokyo");
  EXPECT_EQ(s.Stop(), 0);

  // A zone PostgreSQL does not know is a configuration error.
  Daemon bad(SchedulerDaemon("ates-scheduler-badzone", db, auth_->target(), dates[0],
                             "2025-03-22T16:00:00Z",
                             {{"ATES_BUSINESS_DAY_TIME_ZONE", "Mars/Olympus_Mons"}}));
  bad.Spawn();
  EXPECT_EQ(bad.WaitExit(std::chrono::seconds(20)).value_or(-1), 2) << bad.Log();
  EXPECT_THAT(bad.Log(), HasSubstr("business_day.time_zone"));
}

TEST_F(SchedulerTest, TwoReplicasOnOneDatabaseEmitOneEventPerDate) {
  const std::string db = TestStack::Get().CreateDatabase("sched_replicas");
  const auto dates = Days("2025-04-01", 9);
  const std::string now = "2025-04-09T08:00:00Z";
  Daemon a(SchedulerDaemon("ates-scheduler-a", db, auth_->target(), dates[0], now));
  Daemon b(SchedulerDaemon("ates-scheduler-b", db, auth_->target(), dates[0], now));
  // Both start together and race through the same missed days.
  a.Spawn();
  b.Spawn();
  const int serving = static_cast<int>(grpc::health::v1::HealthCheckResponse::SERVING);
  ASSERT_TRUE(Eventually([&] { return a.HealthStatus("readiness") == serving; }, 30s, 50ms))
      << a.Log();
  ASSERT_TRUE(Eventually([&] { return b.HealthStatus("readiness") == serving; }, 30s, 50ms))
      << b.Log();
  Settle(db);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // a few more passes of both
  Settle(db);
  auto closes = ClosesFor(dates);
  EXPECT_THAT(DatesOf(closes), ElementsAreArray(Days(dates[0], 8)));
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM closed_days"), 8);

  // A manual close on the other replica of a day one of them closed: not new.
  schedv1::CloseBillingCycleResponse r;
  auto s = CloseDay(b, *admin_, dates[3], &r);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_FALSE(r.newly_closed());
  EXPECT_EQ(r.cycle().event_id(), CloseEventId(dates[3]));
  EXPECT_EQ(a.Stop(), 0);
  EXPECT_EQ(b.Stop(), 0);
}

TEST_F(SchedulerTest, CloseBillingCycleIsAdminOnlyAndIdempotent) {
  const std::string db = TestStack::Get().CreateDatabase("sched_manual");
  const auto dates = Days("2025-05-07", 5);  // 07..11; today is the 10th
  Daemon sched(
      SchedulerDaemon("ates-scheduler", db, auth_->target(), dates[0], "2025-05-10T12:00:00Z"));
  sched.Start();
  const std::string today = dates[3];

  schedv1::CloseBillingCycleResponse r;
  auto s = CloseDay(sched, worker_->token, today, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
  s = CloseDay(sched, accountant_->token, today, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
  s = CloseDay(sched, "", today, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  for (const std::string& bad :
       std::vector<std::string>{"2025-05-11", "2025-02-30", "10.05.2025", ""}) {
    s = CloseDay(sched, *admin_, bad, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad << ": " << Describe(s);
    EXPECT_THAT(BadRequestFields(s), Contains("business_date")) << bad;
  }
  Settle(db);
  EXPECT_THAT(DatesOf(ClosesFor(dates)), ElementsAreArray(Days(dates[0], 3)))
      << "nothing closed by the refused calls";

  // Closing today early, twice: one close, one event, the same id both times.
  schedv1::CloseBillingCycleResponse first, second;
  s = CloseDay(sched, *admin_, today, &first);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_TRUE(first.newly_closed());
  EXPECT_EQ(first.cycle().business_date(), today);
  EXPECT_TRUE(first.cycle().manual());
  EXPECT_EQ(first.cycle().event_id(), CloseEventId(today));
  std::this_thread::sleep_for(kPastDuplicateWindow);
  s = CloseDay(sched, *admin_, today, &second);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_FALSE(second.newly_closed());
  EXPECT_EQ(second.cycle().event_id(), first.cycle().event_id());
  EXPECT_TRUE(second.cycle().manual());
  // A day the automatic pass closed: not new, not manual.
  schedv1::CloseBillingCycleResponse auto_closed;
  ASSERT_TRUE(CloseDay(sched, *admin_, dates[1], &auto_closed).ok());
  EXPECT_FALSE(auto_closed.newly_closed());
  EXPECT_FALSE(auto_closed.cycle().manual());
  Settle(db);
  auto closes = ClosesFor(dates);
  EXPECT_THAT(DatesOf(closes), ElementsAreArray(Days(dates[0], 4)));
  ASSERT_THAT(closes, SizeIs(4));
  EXPECT_TRUE(closes[3].body.manual());

  // The list, for admin and accountant, newest first; not for a worker.
  auto stub = schedv1::SchedulerService::NewStub(sched.channel());
  for (const std::string* token : std::vector<const std::string*>{admin_, &accountant_->token}) {
    Call c(*token);
    schedv1::ListClosedCyclesRequest req;
    schedv1::ListClosedCyclesResponse resp;
    ASSERT_TRUE(stub->ListClosedCycles(&c.ctx, req, &resp).ok());
    ASSERT_THAT(resp.cycles(), SizeIs(4));
    EXPECT_EQ(resp.cycles(0).business_date(), today);
    EXPECT_EQ(resp.cycles(3).business_date(), dates[0]);
  }
  {
    Call c(worker_->token);
    schedv1::ListClosedCyclesRequest req;
    schedv1::ListClosedCyclesResponse resp;
    EXPECT_EQ(stub->ListClosedCycles(&c.ctx, req, &resp).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // Paging: every day once, newest first; a size above 500 is capped; tokens are opaque.
  std::vector<std::string> paged;
  std::string token;
  for (int pages = 0; pages < 10; ++pages) {
    Call c(*admin_);
    schedv1::ListClosedCyclesRequest req;
    req.set_page_size(pages == 0 ? 3 : 100000);  // capped, not refused
    req.set_page_token(token);
    schedv1::ListClosedCyclesResponse resp;
    auto listed = stub->ListClosedCycles(&c.ctx, req, &resp);
    ASSERT_TRUE(listed.ok()) << Describe(listed);
    for (const auto& cycle : resp.cycles()) paged.push_back(cycle.business_date());
    token = resp.next_page_token();
    if (token.empty()) break;
    EXPECT_NE(token, paged.back()) << "a bare date is not an opaque token";
  }
  EXPECT_EQ(paged, (std::vector<std::string>{today, dates[2], dates[1], dates[0]}));
  for (const std::string& bad : std::vector<std::string>{"2025-05-11", "garbage"}) {
    Call c(*admin_);
    schedv1::ListClosedCyclesRequest req;
    req.set_page_token(bad);
    schedv1::ListClosedCyclesResponse resp;
    auto refused = stub->ListClosedCycles(&c.ctx, req, &resp);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_THAT(BadRequestFields(refused), Contains("page_token")) << bad;
  }
  stub.reset();
  EXPECT_EQ(sched.Stop(), 0);
}

// scheduler -> SCHEDULE -> billing: the missed day is closed and paid out.
TEST_F(SchedulerTest, EndToEndTheSchedulersCloseMakesBillingPayOut) {
  auto& stack = TestStack::Get();
  const std::string billing_db = stack.CreateDatabase("e2e_billing");
  const std::string sched_db = stack.CreateDatabase("e2e_scheduler");
  const std::string mail_dir = stack.dir() + "/e2e-mail";
  const std::string d = "2025-06-10", d2 = "2025-06-11";
  Daemon billing(BillingDaemon("ates-billing", billing_db, auth_->target(), mail_dir));
  billing.Start();
  auto stub = billv1::BillingService::NewStub(billing.channel());
  LedgerModel model;
  auto send = [&](const Ev& e) {
    model.Record(e);
    EXPECT_FALSE(Publish(*js_, e).duplicate);
  };
  const std::string paid = events::NewUuid(), owes = events::NewUuid();
  send(AccountCreatedEv(paid, "e2e-paid"));
  send(AccountCreatedEv(owes, "e2e-owes"));
  const std::string t1 = events::NewUuid(), t2 = events::NewUuid(), t3 = events::NewUuid();
  send(CreatedV2(t1, "End to end", "UP-900", At(d, "09:00:00")));
  send(AssignedEv(t1, paid, At(d, "09:00:00")));
  send(CompletedEv(t1, paid, At(d, "10:00:00")));
  send(CompletedEv(t2, paid, At(d, "11:00:00")));
  send(AssignedEv(t3, owes, At(d, "12:00:00")));
  ASSERT_TRUE(BillingQuiet(*js_, billing_db));
  const int64_t due = QueryInt(
      billing_db, "SELECT balance_cents FROM balances WHERE account_id = $1", {pg::Text(paid)});
  ASSERT_GT(due, 0);

  Daemon sched(SchedulerDaemon("ates-scheduler", sched_db, auth_->target(), d, At(d2, "09:00:00")));
  sched.Start();
  Settle(sched_db);
  ASSERT_TRUE(BillingQuiet(*js_, billing_db));
  EXPECT_EQ(QueryInt(billing_db,
                     "SELECT count(*) FROM billing_cycles WHERE business_date = $1::date"
                     " AND close_event_id = $2::uuid",
                     {pg::Text(d), pg::Text(CloseEventId(d))}),
            1);
  auto payouts = Query(billing_db,
                       "SELECT id::text, amount_cents, business_date::text FROM payouts"
                       " WHERE account_id = $1",
                       {pg::Text(paid)});
  ASSERT_EQ(payouts.Rows(), 1);
  EXPECT_EQ(payouts.Int(0, 1), due);
  EXPECT_EQ(payouts.String(0, 2), d);
  EXPECT_EQ(
      QueryInt(billing_db, "SELECT count(*) FROM payouts WHERE account_id = $1", {pg::Text(owes)}),
      0);
  const std::string mail = mail_dir + "/payout-" + payouts.String(0, 0) + ".eml";
  ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(mail); })) << mail;
  EXPECT_THAT(ReadFile(mail), HasSubstr("$" + Dollars(due)));
  EXPECT_THAT(ReadFile(mail), HasSubstr("e2e-paid@example.com"));

  // The operator closes today early, and again: billing pays nothing more.
  schedv1::CloseBillingCycleResponse r;
  ASSERT_TRUE(CloseDay(sched, *admin_, d2, &r).ok());
  EXPECT_TRUE(r.newly_closed());
  ASSERT_TRUE(CloseDay(sched, *admin_, d2, &r).ok());
  EXPECT_FALSE(r.newly_closed());
  Settle(sched_db);
  ASSERT_TRUE(BillingQuiet(*js_, billing_db));
  EXPECT_EQ(QueryInt(billing_db, "SELECT count(*) FROM billing_cycles WHERE business_date = $1",
                     {pg::Text(d2)}),
            1);
  EXPECT_EQ(QueryInt(billing_db, "SELECT count(*) FROM payouts"), 1);

  StreamCache billing_events(*js_, "BILLING");
  // Only this billing publishes to BILLING in this binary.
  CheckLedgerInvariants(billing_db, model, *stub, *admin_, billing_events);
  stub.reset();
  EXPECT_EQ(sched.Stop(), 0);
  EXPECT_EQ(billing.Stop(), 0);
}

}  // namespace
}  // namespace ates::test
