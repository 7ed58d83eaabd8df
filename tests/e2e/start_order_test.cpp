// Start in any order (issue 9, item 6): ates-tasks, ates-billing and
// ates-analytics start while ates-auth is not running. Their relays and
// consumers run at once (events flow), they are not ready, and calls that need a
// token get UNAVAILABLE until the verification keys arrive; then everything
// works without a restart. A business time zone PostgreSQL does not know stops
// billing and analytics with exit code 2, naming the key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ates/analytics/v1/analytics_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "support/analytics_daemon.hpp"
#include "support/billing_helpers.hpp"
#include "support/e2e_support.hpp"
#include "support/tasks_helpers.hpp"

namespace ates::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kServing = static_cast<int>(grpc::health::v1::HealthCheckResponse::SERVING);
constexpr int kNotServing = static_cast<int>(grpc::health::v1::HealthCheckResponse::NOT_SERVING);

std::string FreeListen() { return "127.0.0.1:" + std::to_string(FreePort()); }

// One daemon of the test with its metrics endpoint.
struct Running {
  std::unique_ptr<Daemon> daemon;
  std::string metrics;  // host:port of /metrics

  double Metric(const std::string& name) const {
    auto resp = e2e::HttpGet(metrics, "/metrics");
    return resp.status == 200 ? e2e::CheckPrometheusText(resp.body).Sum(name) : -1;
  }
};

Running Spawn(DaemonOptions options) {
  Running r;
  r.metrics = FreeListen();
  options.env["ATES_ADMIN_LISTEN"] = r.metrics;
  r.daemon = std::make_unique<Daemon>(std::move(options));
  r.daemon->Spawn();
  return r;
}

class StartOrderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { js_ = new JsClient(TestStack::Get().nats_url()); }
  static void TearDownTestSuite() {
    delete js_;
    js_ = nullptr;
  }
  static inline JsClient* js_ = nullptr;
};

TEST_F(StartOrderTest, EventsFlowWhileAuthIsDownAndTokenCallsAnswerUnavailableUntilItStarts) {
  auto& stack = TestStack::Get();
  // Where ates-auth will listen once it starts: nothing answers there yet.
  const std::string auth_target = FreeListen();
  const std::string tasks_db = stack.CreateDatabase("order_tasks");
  const std::string billing_db = stack.CreateDatabase("order_billing");
  const std::string analytics_db = stack.CreateDatabase("order_analytics");
  Running tasks = Spawn(TasksDaemon("ates-tasks", tasks_db, auth_target, "tasks_accounts"));
  Running billing =
      Spawn(BillingDaemon("ates-billing", billing_db, auth_target, stack.dir() + "/order-mail"));
  Running analytics = Spawn(AnalyticsDaemon("ates-analytics", analytics_db, auth_target));
  const std::vector<Running*> all = {&tasks, &billing, &analytics};

  // Up and consuming, not ready: live, relay leading, "relay and consumers started".
  for (Running* r : all) {
    SCOPED_TRACE(r->daemon->log_path());
    ASSERT_TRUE(Eventually([&] { return r->Metric("ates_outbox_relay_leader") == 1; }))
        << r->daemon->Log();
    EXPECT_THAT(r->daemon->Log(), HasSubstr("relay and consumers started"));
    EXPECT_EQ(r->daemon->HealthStatus("liveness"), kServing);
    EXPECT_EQ(r->daemon->HealthStatus("readiness"), kNotServing);
  }

  // Events flow through all three: an account reaches tasks and billing, a
  // task's events are priced and posted by billing, whose relay publishes to
  // BILLING, which analytics applies.
  const std::string worker = events::NewUuid(), task = events::NewUuid();
  const std::string day = "2025-08-04";
  ASSERT_FALSE(Publish(*js_, AccountCreatedEv(worker, "order-worker")).duplicate);
  for (const Ev& e : {CreatedV2(task, "Start in any order", "UP-9", At(day, "09:00:00")),
                      AssignedEv(task, worker, At(day, "09:00:00")),
                      CompletedEv(task, worker, At(day, "10:00:00"))}) {
    ASSERT_FALSE(Publish(*js_, e).duplicate);
  }
  for (const std::string* db : {&tasks_db, &billing_db}) {
    EXPECT_TRUE(Eventually([&] {
      return QueryInt(*db, "SELECT count(*) FROM accounts_replica WHERE id = $1",
                      {pg::Text(worker)}) == 1;
    })) << "the account did not reach "
        << *db;
  }
  EXPECT_TRUE(Eventually([&] {
    return QueryInt(billing_db, "SELECT count(*) FROM transactions WHERE account_id = $1",
                    {pg::Text(worker)}) == 2;
  }));
  EXPECT_TRUE(Eventually([&] {
    return QueryInt(analytics_db,
                    "SELECT count(*) FROM task_facts WHERE task_id = $1"
                    " AND fee_cents IS NOT NULL AND reward_cents IS NOT NULL",
                    {pg::Text(task)}) == 1;
  })) << "billing's events did not reach analytics";

  // Calls that need a token: UNAVAILABLE with the reason, whatever the token;
  // no token at all is still UNAUTHENTICATED.
  auto tasks_stub = tasksv1::TaskService::NewStub(tasks.daemon->channel());
  auto billing_stub = billv1::BillingService::NewStub(billing.daemon->channel());
  auto analytics_stub = anv1::AnalyticsService::NewStub(analytics.daemon->channel());
  auto list_tasks = [&](const std::string& token) {
    Call c(token);
    tasksv1::ListTasksRequest req;
    tasksv1::ListTasksResponse resp;
    return tasks_stub->ListTasks(&c.ctx, req, &resp);
  };
  auto balance = [&](const std::string& token) {
    Call c(token);
    billv1::GetBalanceRequest req;
    req.set_account_id(worker);
    billv1::GetBalanceResponse resp;
    return billing_stub->GetBalance(&c.ctx, req, &resp);
  };
  auto summary = [&](const std::string& token) {
    Call c(token);
    anv1::GetDailySummaryRequest req;
    req.set_business_date(day);
    anv1::GetDailySummaryResponse resp;
    return analytics_stub->GetDailySummary(&c.ctx, req, &resp);
  };
  const std::string some_token = "eyJhbGciOiJFZERTQSJ9.e30.c2ln";
  for (const auto& s : {list_tasks(some_token), balance(some_token), summary(some_token)}) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(s);
    EXPECT_THAT(s.error_message(), HasSubstr("token verification keys not loaded yet"));
  }
  EXPECT_EQ(list_tasks("").error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // ates-auth starts: the others load its keys within a second or two, become
  // ready and take its tokens.
  Daemon auth(AuthDaemon("ates-auth", stack.CreateDatabase("order_auth"),
                         {{"ATES_GRPC_LISTEN", auth_target}}));
  auth.Start();
  for (Running* r : all) {
    EXPECT_TRUE(Eventually([&] { return r->daemon->HealthStatus("readiness") == kServing; }, 10s))
        << r->daemon->Log();
    EXPECT_THAT(r->daemon->Log(), HasSubstr("verification keys loaded"));
  }
  auto auth_stub = authv1::AuthService::NewStub(auth.channel());
  const std::string admin = Login(*auth_stub, kAdminLogin, kAdminPassword);
  for (const auto& s : {list_tasks(admin), balance(admin), summary(admin)}) {
    EXPECT_TRUE(s.ok()) << Describe(s);
  }
  tasks_stub.reset();
  billing_stub.reset();
  analytics_stub.reset();
  auth_stub.reset();
  for (Running* r : all) EXPECT_EQ(r->daemon->Stop(), 0) << r->daemon->Log();
  EXPECT_EQ(auth.Stop(), 0);
}

TEST_F(StartOrderTest, AnUnknownBusinessTimeZoneStopsBillingAndAnalyticsWithExitCode2) {
  auto& stack = TestStack::Get();
  const std::map<std::string, std::string> bad_zone = {
      {"ATES_BUSINESS_DAY_TIME_ZONE", "Mars/Olympus_Mons"}};
  // No ates-auth at all: the zone is checked before anything else waits for it.
  const std::string nowhere = FreeListen();
  Daemon billing(BillingDaemon("ates-billing-badzone", stack.CreateDatabase("zone_billing"),
                               nowhere, stack.dir() + "/zone-mail", bad_zone));
  Daemon analytics(AnalyticsDaemon("ates-analytics-badzone", stack.CreateDatabase("zone_analytics"),
                                   nowhere, "zone_analytics", bad_zone));
  billing.Spawn();
  analytics.Spawn();
  for (Daemon* d : {&billing, &analytics}) {
    EXPECT_EQ(d->WaitExit(20s).value_or(-1), 2) << d->Log();
    EXPECT_THAT(d->Log(), HasSubstr("business_day.time_zone"));
    EXPECT_THAT(d->Log(), HasSubstr("Mars/Olympus_Mons"));
    EXPECT_THAT(d->Log(), Not(HasSubstr("relay and consumers started")))
        << "nothing may be applied in an unknown zone";
  }
}

}  // namespace
}  // namespace ates::test
