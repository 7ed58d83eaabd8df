// /metrics of real daemons (ates-auth, ates-billing on the test stack's
// PostgreSQL and NATS) after a few calls: gRPC metrics under the
// go-grpc-prometheus names and labels, ates_build_info, the process_* metrics,
// the pool gauges, the consumers' pending and dead-letter gauges, and the text
// as promtool reads it (promtool is required: missing, the test fails).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <regex>

#include "ates/platform/events.hpp"
#include "support/auth_helpers.hpp"
#include "support/billing_helpers.hpp"
#include "support/e2e_support.hpp"
#include "support/wait.hpp"

namespace ates::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DaemonMetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      auto& stack = TestStack::Get();
      js_ = new JsClient(stack.nats_url());
      auth_metrics_ = new std::string("127.0.0.1:" + std::to_string(FreePort()));
      billing_metrics_ = new std::string("127.0.0.1:" + std::to_string(FreePort()));
      billing_db_ = new std::string(stack.CreateDatabase("metrics_billing"));
      auth_ = new Daemon(AuthDaemon("ates-auth", stack.CreateDatabase("metrics_auth"),
                                    {{"ATES_ADMIN_LISTEN", *auth_metrics_}}));
      auth_->Start();
      billing_ = new Daemon(BillingDaemon("ates-billing", *billing_db_, auth_->target(),
                                          stack.dir() + "/metrics-mail",
                                          {{"ATES_ADMIN_LISTEN", *billing_metrics_}}));
      billing_->Start();
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete billing_;
    delete auth_;
    delete js_;
  }
  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static std::string Scrape(const std::string& listen) {
    auto resp = e2e::HttpGet(listen, "/metrics");
    EXPECT_EQ(resp.status, 200) << resp.error;
    return resp.body;
  }
  // The value of the one sample `name{labels}` (labels as printed, sorted), or -1.
  static double Value(const std::string& text, const std::string& name,
                      const std::string& labels = "") {
    auto check = e2e::CheckPrometheusText(text);
    auto it = check.values.find(name);
    if (it == check.values.end()) return -1;
    const std::string braced = labels.empty() ? "" : "{" + labels + "}";
    for (const auto& [l, v] : it->second) {
      if (l == braced) return v;
    }
    return -1;
  }
  static int64_t Rows(const std::string& sql) { return QueryInt(*billing_db_, sql); }

  static inline std::string* setup_error_ = nullptr;
  static inline JsClient* js_ = nullptr;
  static inline std::string* auth_metrics_ = nullptr;
  static inline std::string* billing_metrics_ = nullptr;
  static inline std::string* billing_db_ = nullptr;
  static inline Daemon* auth_ = nullptr;
  static inline Daemon* billing_ = nullptr;
};

TEST_F(DaemonMetricsTest, RpcsAreCountedByServiceMethodAndGrpcGoCodeName) {
  auto stub = authv1::AuthService::NewStub(auth_->channel());
  std::string token = Login(*stub, kAdminLogin, kAdminPassword);
  for (int i = 0; i < 2; ++i) {
    Call c(token);
    authv1::GetAccountRequest req;
    req.set_account_id("not-a-uuid");
    authv1::GetAccountResponse resp;
    ASSERT_EQ(stub->GetAccount(&c.ctx, req, &resp).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  auto text = Scrape(*auth_metrics_);
  EXPECT_EQ(Value(text, "grpc_server_handled_total",
                  R"(grpc_code="InvalidArgument",grpc_method="GetAccount",)"
                  R"(grpc_service="ates.auth.v1.AuthService",grpc_type="unary")"),
            2)
      << text;
  EXPECT_GE(Value(text, "grpc_server_handled_total",
                  R"(grpc_code="OK",grpc_method="Login",)"
                  R"(grpc_service="ates.auth.v1.AuthService",grpc_type="unary")"),
            1);
  EXPECT_EQ(Value(text, "grpc_server_handling_seconds_count",
                  R"(grpc_method="GetAccount",grpc_service="ates.auth.v1.AuthService",)"
                  R"(grpc_type="unary")"),
            2);
  EXPECT_THAT(text, Not(HasSubstr("ates_grpc_server"))) << "the old names are gone";
}

TEST_F(DaemonMetricsTest, BuildInfoNamesTheServiceVersionAndRevision) {
  auto text = Scrape(*billing_metrics_);
  std::smatch m;
  std::regex info(
      R"re(ates_build_info\{revision="([0-9a-f]+|unknown)",service="ates-billing",version="([0-9]+\.[0-9]+\.[0-9]+)"\} 1)re");
  ASSERT_TRUE(std::regex_search(text, m, info)) << text;
  EXPECT_EQ(m[2].str(), "0.1.0");
}

TEST_F(DaemonMetricsTest, ProcessMetricsArePlausible) {
  auto text = Scrape(*auth_metrics_);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(Value(text, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(Value(text, "process_virtual_memory_bytes"),
            Value(text, "process_resident_memory_bytes"));
  EXPECT_GT(Value(text, "process_cpu_seconds_total"), 0);
  const double open = Value(text, "process_open_fds");
  EXPECT_GT(open, 3);
  EXPECT_GE(Value(text, "process_max_fds"), open);
  // This suite started it a moment ago.
  const double started = Value(text, "process_start_time_seconds");
  EXPECT_GT(started, now - 300) << text;
  EXPECT_LE(started, now + 1);
}

TEST_F(DaemonMetricsTest, PoolGaugesAddUpToThePoolSize) {
  auto text = Scrape(*billing_metrics_);
  // SystemDaemon gives every daemon 4 connections.
  EXPECT_EQ(Value(text, "ates_db_pool_max_connections"), 4) << text;
  const double in_use = Value(text, "ates_db_pool_connections", R"(state="in_use")");
  const double idle = Value(text, "ates_db_pool_connections", R"(state="idle")");
  EXPECT_GE(in_use, 0);
  EXPECT_GE(idle, 0);
  EXPECT_EQ(in_use + idle, 4);
}

TEST_F(DaemonMetricsTest, ConsumerPendingGaugesFollowJetStream) {
  // Billing's consumers have caught up: JetStream and the gauges both say 0.
  ASSERT_TRUE(Eventually(
      [&] {
        auto st = js_->Consumer("TASKS", "billing_tasks");
        return st && st->num_pending == 0 && st->num_ack_pending == 0;
      },
      30s));
  std::string text;
  EXPECT_TRUE(Eventually(
      [&] {
        text = Scrape(*billing_metrics_);
        return Value(text, "ates_consumer_pending_messages", R"(consumer="billing_tasks")") == 0 &&
               Value(text, "ates_consumer_ack_pending_messages", R"(consumer="billing_tasks")") ==
                   0;
      },
      15s))
      << text;
}

TEST_F(DaemonMetricsTest, DeadLettersEqualTheRowsAfterAForgedEventIsParked) {
  const std::string before =
      "SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL"
      " AND consumer = 'billing_tasks'";
  const int64_t held = Rows(before);
  Ev garbage = MakeEv("tasks.task.assigned", events::NewUuid(), 1, std::string(11, '\xff'));
  Publish(*js_, garbage);
  ASSERT_TRUE(Eventually([&] { return Rows(before) == held + 1; }, 30s))
      << "billing did not park the forged event";
  std::string text;
  // The gauge is refreshed every 15 s.
  EXPECT_TRUE(Eventually(
      [&] {
        text = Scrape(*billing_metrics_);
        return Value(text, "ates_dead_letters", R"(consumer="billing_tasks")") == held + 1;
      },
      25s, 500ms))
      << text;
}

TEST_F(DaemonMetricsTest, PayoutEmailsPendingCountsAnEmailThatCannotBeSentYet) {
  // A payout to an account billing has not heard of: its e-mail address is not
  // known yet, so the mailer retries it later and it stays pending.
  const std::string payout = events::NewUuid();
  const std::string account = events::NewUuid();
  pg::Connection db(*billing_db_);
  db.Exec(
      "INSERT INTO payouts (id, account_id, business_date, amount_cents, paid_at)"
      " VALUES ($1, $2, current_date, 100, now())",
      {pg::Text(payout), pg::Text(account)});
  db.Exec(
      "INSERT INTO payout_emails (payout_id, account_id, amount_cents, business_date)"
      " VALUES ($1, $2, 100, current_date)",
      {pg::Text(payout), pg::Text(account)});
  const int64_t pending = Rows("SELECT count(*) FROM payout_emails WHERE sent_at IS NULL");
  ASSERT_GE(pending, 1);
  std::string text;
  EXPECT_TRUE(Eventually(
      [&] {
        text = Scrape(*billing_metrics_);
        return Value(text, "ates_payout_emails_pending") == pending;
      },
      15s, 500ms))
      << text;
  db.Exec("UPDATE payout_emails SET sent_at = now() WHERE payout_id = $1", {pg::Text(payout)});
  EXPECT_TRUE(Eventually(
      [&] {
        text = Scrape(*billing_metrics_);
        return Value(text, "ates_payout_emails_pending") == pending - 1;
      },
      15s, 500ms))
      << text;
}

TEST_F(DaemonMetricsTest, PromtoolAcceptsTheText) {
  const std::string promtool = e2e::FindInPath("promtool");
  ASSERT_FALSE(promtool.empty()) << "promtool is required (Debian package prometheus)";
  for (const auto* listen : {auth_metrics_, billing_metrics_}) {
    auto r = e2e::RunCli({promtool, "check", "metrics"}, Scrape(*listen), {});
    EXPECT_EQ(r.exit_code, 0) << *listen << ":\n" << r.out << r.err;
  }
}

}  // namespace
}  // namespace ates::test
