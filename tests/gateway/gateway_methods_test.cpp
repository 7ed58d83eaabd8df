// Every public method of the five daemons answers through ates-gateway, once in
// Connect JSON and once in binary protobuf, each with a real effect or a real
// reply checked (ADR 0024). Order matters within an encoding: the tasks the
// task methods create are what billing and analytics then report.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "gateway_world.hpp"

namespace ates::test {
namespace {

namespace tasksv1 = ::ates::tasks::v1;
namespace billv1 = ::ates::billing::v1;
namespace anv1 = ::ates::analytics::v1;
namespace schedv1 = ::ates::scheduler::v1;
using ::testing::HasSubstr;
using ::testing::Not;

// The task each encoding completed (TaskMethods), for the billing checks.
std::map<Encoding, std::string> g_completed_task;

class GatewayMethodsTest : public ::testing::TestWithParam<Encoding> {
 protected:
  GatewayWorld& world() { return GatewayWorld::Get(); }
  Gateway& gw() { return *world().gateway; }
  std::string Suffix() const { return Name(GetParam()); }

  // Logs in through the gateway; the session token from its cookie.
  std::string Session(const std::string& login, const std::string& password) {
    authv1::LoginRequest req;
    req.set_login(login);
    req.set_password(password);
    auto r = gw().Call<authv1::LoginResponse>("/ates.auth.v1.AuthService/Login", req, GetParam());
    EXPECT_EQ(r.http.status, 200) << r.http.body;
    return Gateway::SessionOf(r.http);
  }
};

TEST_P(GatewayMethodsTest, AuthLoginGetAndListAccountsAnswerWithTheAccounts) {
  auto e = GetParam();
  authv1::LoginRequest login;
  login.set_login(kAdminLogin);
  login.set_password(kAdminPassword);
  auto l = gw().Call<authv1::LoginResponse>("/ates.auth.v1.AuthService/Login", login, e);
  ASSERT_EQ(l.http.status, 200) << l.http.body;
  EXPECT_EQ(l.reply.account().login(), kAdminLogin);
  EXPECT_TRUE(l.reply.access_token().empty()) << "the token must stay in the cookie";
  std::string admin = Gateway::SessionOf(l.http);
  ASSERT_FALSE(admin.empty());

  authv1::GetPublicKeysRequest keys_req;
  auto keys = gw().Call<authv1::GetPublicKeysResponse>("/ates.auth.v1.AuthService/GetPublicKeys",
                                                       keys_req, e);
  ASSERT_EQ(keys.http.status, 200) << keys.http.body;
  EXPECT_GT(keys.reply.keys_size(), 0);
  EXPECT_EQ(keys.reply.issuer(), "ates-auth");

  authv1::GetAccountRequest get;
  get.set_account_id(world().worker_id);
  auto g =
      gw().Call<authv1::GetAccountResponse>("/ates.auth.v1.AuthService/GetAccount", get, e, admin);
  ASSERT_EQ(g.http.status, 200) << g.http.body;
  EXPECT_EQ(g.reply.account().login(), kWorkerLogin);

  authv1::ListAccountsRequest list;
  list.set_page_size(100);
  auto ls = gw().Call<authv1::ListAccountsResponse>("/ates.auth.v1.AuthService/ListAccounts", list,
                                                    e, admin);
  ASSERT_EQ(ls.http.status, 200) << ls.http.body;
  std::vector<std::string> logins;
  for (const auto& a : ls.reply.accounts()) logins.push_back(a.login());
  EXPECT_THAT(logins,
              ::testing::IsSupersetOf({std::string(kAdminLogin), std::string(kWorkerLogin)}));
}

TEST_P(GatewayMethodsTest, AuthCreateUpdateResetAndChangePasswordTakeEffect) {
  auto e = GetParam();
  std::string admin = Session(kAdminLogin, kAdminPassword);
  std::string login = "gw-manager-" + Suffix();
  auto create = gw().Call<authv1::CreateAccountResponse>(
      "/ates.auth.v1.AuthService/CreateAccount",
      NewAccountRequest(login, ::ates::common::v1::ROLE_MANAGER), e, admin);
  ASSERT_EQ(create.http.status, 200) << create.http.body;
  EXPECT_EQ(create.reply.account().login(), login);
  std::string id = create.reply.account().id();

  authv1::UpdateAccountRequest update;
  update.set_account_id(id);
  update.set_full_name("Renamed " + Suffix());
  auto u = gw().Call<authv1::UpdateAccountResponse>("/ates.auth.v1.AuthService/UpdateAccount",
                                                    update, e, admin);
  ASSERT_EQ(u.http.status, 200) << u.http.body;
  EXPECT_EQ(u.reply.account().full_name(), "Renamed " + Suffix());

  authv1::ResetPasswordRequest reset;
  reset.set_login(login);
  reset.set_new_password("reset-pass-" + Suffix() + "-1");
  auto r = gw().Call<authv1::ResetPasswordResponse>("/ates.auth.v1.AuthService/ResetPassword",
                                                    reset, e, admin);
  ASSERT_EQ(r.http.status, 200) << r.http.body;
  EXPECT_EQ(r.reply.account().id(), id);
  std::string manager = Session(login, "reset-pass-" + Suffix() + "-1");
  ASSERT_FALSE(manager.empty()) << "the reset password logs in";

  authv1::ChangePasswordRequest change;
  change.set_old_password("reset-pass-" + Suffix() + "-1");
  change.set_new_password("changed-pass-" + Suffix() + "-2");
  auto c = gw().Call<authv1::ChangePasswordResponse>("/ates.auth.v1.AuthService/ChangePassword",
                                                     change, e, manager);
  ASSERT_EQ(c.http.status, 200) << c.http.body;
  EXPECT_TRUE(c.reply.access_token().empty());
  EXPECT_FALSE(Gateway::SessionOf(c.http).empty()) << "the fresh token becomes the cookie";
  EXPECT_FALSE(Session(login, "changed-pass-" + Suffix() + "-2").empty());
}

TEST_P(GatewayMethodsTest, TaskCreateGetListShuffleAndCompleteTakeEffect) {
  auto e = GetParam();
  std::string admin = Session(kAdminLogin, kAdminPassword);
  tasksv1::CreateTaskRequest create;
  create.set_title("Gateway task " + Suffix());
  create.set_jira_id("GW-" + std::to_string(static_cast<int>(e) + 1));
  auto t = gw().Call<tasksv1::CreateTaskResponse>("/ates.tasks.v1.TaskService/CreateTask", create,
                                                  e, admin);
  ASSERT_EQ(t.http.status, 200) << t.http.body;
  std::string task_id = t.reply.task().id();
  EXPECT_EQ(t.reply.task().assignee_id(), world().worker_id) << "the only assignable account";

  tasksv1::GetTaskRequest get;
  get.set_task_id(task_id);
  auto g = gw().Call<tasksv1::GetTaskResponse>("/ates.tasks.v1.TaskService/GetTask", get, e, admin);
  ASSERT_EQ(g.http.status, 200) << g.http.body;
  EXPECT_EQ(g.reply.task().title(), "Gateway task " + Suffix());

  tasksv1::ListTasksRequest list;
  list.set_status(tasksv1::TASK_STATUS_OPEN);
  list.set_page_size(100);
  auto ls =
      gw().Call<tasksv1::ListTasksResponse>("/ates.tasks.v1.TaskService/ListTasks", list, e, admin);
  ASSERT_EQ(ls.http.status, 200) << ls.http.body;
  bool listed = false;
  for (const auto& task : ls.reply.tasks()) listed = listed || task.id() == task_id;
  EXPECT_TRUE(listed);

  // Shuffles are at least tasks.shuffle_cooldown (10 s) apart, all callers together.
  std::string manager = Session("gw-manager-" + Suffix(), "changed-pass-" + Suffix() + "-2");
  tasksv1::ShuffleTasksRequest shuffle;
  Connect<tasksv1::ShuffleTasksResponse> sh;
  Eventually(
      [&] {
        sh = gw().Call<tasksv1::ShuffleTasksResponse>("/ates.tasks.v1.TaskService/ShuffleTasks",
                                                      shuffle, e, manager);
        return sh.http.status != 429;
      },
      std::chrono::seconds(15));
  ASSERT_EQ(sh.http.status, 200) << sh.http.body;
  EXPECT_GE(sh.reply.reassigned_count(), 1) << "at least this open task was reassigned";

  std::string worker = Session(kWorkerLogin, kWorkerPassword);
  tasksv1::CompleteTaskRequest complete;
  complete.set_task_id(task_id);
  auto c = gw().Call<tasksv1::CompleteTaskResponse>("/ates.tasks.v1.TaskService/CompleteTask",
                                                    complete, e, worker);
  ASSERT_EQ(c.http.status, 200) << c.http.body;
  EXPECT_EQ(c.reply.task().status(), tasksv1::TASK_STATUS_COMPLETED);
  g_completed_task[e] = task_id;
}

TEST_P(GatewayMethodsTest, BillingBalanceEqualsTheTransactionsAndReportsAnswer) {
  auto e = GetParam();
  ASSERT_TRUE(g_completed_task.count(e)) << "needs TaskCreateGetListShuffleAndCompleteTakeEffect";
  std::string worker = Session(kWorkerLogin, kWorkerPassword);
  billv1::ListTransactionsRequest txs;
  txs.set_account_id(world().worker_id);
  txs.set_page_size(500);
  int64_t sum = 0;
  bool rewarded = Eventually([&] {
    auto r = gw().Call<billv1::ListTransactionsResponse>(
        "/ates.billing.v1.BillingService/ListTransactions", txs, e, worker);
    if (r.http.status != 200) return false;
    sum = 0;
    bool found = false;
    for (const auto& t : r.reply.transactions()) {
      sum += t.amount_cents();
      found = found || (t.task_id() == g_completed_task[e] && t.amount_cents() > 0);
    }
    return found;
  });
  ASSERT_TRUE(rewarded) << "the completion reward reaches the worker's audit log";

  billv1::GetBalanceRequest bal;
  bal.set_account_id(world().worker_id);
  auto b = gw().Call<billv1::GetBalanceResponse>("/ates.billing.v1.BillingService/GetBalance", bal,
                                                 e, worker);
  ASSERT_EQ(b.http.status, 200) << b.http.body;
  EXPECT_EQ(b.reply.balance_cents(), sum) << "no payout yet: balance = sum of the postings";

  std::string admin = Session(kAdminLogin, kAdminPassword);
  billv1::GetManagementEarningsRequest earn;
  auto m = gw().Call<billv1::GetManagementEarningsResponse>(
      "/ates.billing.v1.BillingService/GetManagementEarnings", earn, e, admin);
  ASSERT_EQ(m.http.status, 200) << m.http.body;
  EXPECT_EQ(m.reply.today().business_date(), world().today);

  billv1::ListPayoutsRequest payouts;
  payouts.set_account_id(world().worker_id);
  auto p = gw().Call<billv1::ListPayoutsResponse>("/ates.billing.v1.BillingService/ListPayouts",
                                                  payouts, e, worker);
  ASSERT_EQ(p.http.status, 200) << p.http.body;
  EXPECT_EQ(p.reply.payouts_size(), 0) << "no day closed yet";

  billv1::ReconcileDayRequest rec;
  rec.set_business_date(world().today);
  auto r = gw().Call<billv1::ReconcileDayResponse>("/ates.billing.v1.BillingService/ReconcileDay",
                                                   rec, e, admin);
  ASSERT_EQ(r.http.status, 200) << r.http.body;
  EXPECT_EQ(r.reply.business_date(), world().today);
  EXPECT_GE(r.reply.completed_events(), 1);
}

TEST_P(GatewayMethodsTest, AnalyticsReportsTodaysFigures) {
  auto e = GetParam();
  std::string admin = Session(kAdminLogin, kAdminPassword);
  anv1::GetMostExpensiveTaskRequest most;
  most.set_period(anv1::PERIOD_DAY);
  most.set_business_date(world().today);
  int64_t reward = 0;
  ASSERT_TRUE(Eventually([&] {
    auto r = gw().Call<anv1::GetMostExpensiveTaskResponse>(
        "/ates.analytics.v1.AnalyticsService/GetMostExpensiveTask", most, e, admin);
    reward = r.ok() ? r.reply.reward_cents() : 0;
    return reward > 0;
  })) << "a completed task is today's most expensive";
  EXPECT_GE(reward, 2000);

  anv1::GetDailySummaryRequest summary;
  summary.set_business_date(world().today);
  auto s = gw().Call<anv1::GetDailySummaryResponse>(
      "/ates.analytics.v1.AnalyticsService/GetDailySummary", summary, e, admin);
  ASSERT_EQ(s.http.status, 200) << s.http.body;
  EXPECT_EQ(s.reply.business_date(), world().today);

  anv1::GetEarningsRequest earnings;
  earnings.set_from_date(world().today);
  earnings.set_to_date(world().today);
  auto g = gw().Call<anv1::GetEarningsResponse>("/ates.analytics.v1.AnalyticsService/GetEarnings",
                                                earnings, e, admin);
  ASSERT_EQ(g.http.status, 200) << g.http.body;
  ASSERT_EQ(g.reply.days_size(), 1) << g.http.body;
  EXPECT_EQ(g.reply.days(0).business_date(), world().today);
}

TEST_P(GatewayMethodsTest, SchedulerClosesAPastDayAndListsIt) {
  auto e = GetParam();
  std::string admin = Session(kAdminLogin, kAdminPassword);
  std::string date = e == Encoding::kJson ? "2020-01-01" : "2020-01-02";
  schedv1::CloseBillingCycleRequest close;
  close.set_business_date(date);
  auto c = gw().Call<schedv1::CloseBillingCycleResponse>(
      "/ates.scheduler.v1.SchedulerService/CloseBillingCycle", close, e, admin);
  ASSERT_EQ(c.http.status, 200) << c.http.body;
  EXPECT_EQ(c.reply.cycle().business_date(), date);
  EXPECT_TRUE(c.reply.newly_closed());

  schedv1::ListClosedCyclesRequest list;
  auto l = gw().Call<schedv1::ListClosedCyclesResponse>(
      "/ates.scheduler.v1.SchedulerService/ListClosedCycles", list, e, admin);
  ASSERT_EQ(l.http.status, 200) << l.http.body;
  std::vector<std::string> dates;
  for (const auto& cycle : l.reply.cycles()) dates.push_back(cycle.business_date());
  EXPECT_THAT(dates, ::testing::Contains(date));
}

// Last: tokens signed with the new key verify from now on.
TEST_P(GatewayMethodsTest, ZRotateSigningKeyIssuesANewKey) {
  auto e = GetParam();
  std::string admin = Session(kAdminLogin, kAdminPassword);
  authv1::RotateSigningKeyRequest rotate;
  auto r = gw().Call<authv1::RotateSigningKeyResponse>("/ates.auth.v1.AuthService/RotateSigningKey",
                                                       rotate, e, admin);
  ASSERT_EQ(r.http.status, 200) << r.http.body;
  authv1::GetPublicKeysRequest keys_req;
  auto keys = gw().Call<authv1::GetPublicKeysResponse>("/ates.auth.v1.AuthService/GetPublicKeys",
                                                       keys_req, e);
  std::vector<std::string> kids;
  for (const auto& k : keys.reply.keys()) kids.push_back(k.kid());
  EXPECT_THAT(kids, ::testing::Contains(r.reply.kid()));
}

INSTANTIATE_TEST_SUITE_P(Encodings, GatewayMethodsTest,
                         ::testing::Values(Encoding::kJson, Encoding::kProto),
                         [](const auto& info) { return std::string(Name(info.param)); });

}  // namespace
}  // namespace ates::test
