// Authorization in one place and token revocation (ADR 0017), with all five
// real daemons: every method each daemon serves has an access policy, and a
// deactivated or changed account's old token is refused everywhere in seconds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <set>

#include "grpc/health/v1/health.grpc.pb.h"
#include "support/policy_helpers.hpp"

namespace ates::test {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// What each daemon serves besides the platform's health and reflection.
const std::map<std::string, std::set<std::string>> kServices = {
    {"ates-auth", {"ates.auth.v1.AuthService"}},
    {"ates-tasks", {"ates.tasks.v1.TaskService", "ates.ops.v1.DeadLetterService"}},
    {"ates-billing", {"ates.billing.v1.BillingService", "ates.ops.v1.DeadLetterService"}},
    {"ates-analytics", {"ates.analytics.v1.AnalyticsService", "ates.ops.v1.DeadLetterService"}},
    {"ates-scheduler", {"ates.scheduler.v1.SchedulerService", "ates.ops.v1.DeadLetterService"}},
};
const std::set<std::string> kPublicMethods = {"/ates.auth.v1.AuthService/Login",
                                              "/ates.auth.v1.AuthService/GetPublicKeys"};

// One authenticated call per daemon, with an empty request; a token that is
// accepted gets anything but UNAUTHENTICATED (PERMISSION_DENIED for a role
// the method is not for).
const std::map<std::string, std::string> kProbe = {
    {"ates-auth", "/ates.auth.v1.AuthService/GetAccount"},
    {"ates-tasks", "/ates.tasks.v1.TaskService/ListTasks"},
    {"ates-billing", "/ates.billing.v1.BillingService/GetBalance"},
    {"ates-analytics", "/ates.analytics.v1.AnalyticsService/GetEarnings"},
    {"ates-scheduler", "/ates.scheduler.v1.SchedulerService/ListClosedCycles"},
};

class PolicyDaemonsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sut_ = new SystemUnderTest("policy"); }
  static void TearDownTestSuite() {
    delete sut_;
    sut_ = nullptr;
  }

  // A new account of `role`, logged in: {id, token}.
  static std::pair<std::string, std::string> NewAccount(const std::string& login, Role role) {
    auto stub = sut_->Auth();
    Call create(sut_->admin_token);
    authv1::CreateAccountResponse created;
    auto s = stub->CreateAccount(&create.ctx, NewAccountRequest(login, role), &created);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return {created.account().id(), Login(login)};
  }

  static std::string Login(const std::string& login) {
    auto stub = sut_->Auth();
    Call call;
    authv1::LoginRequest req;
    req.set_login(login);
    req.set_password("popug-pass-1");
    authv1::LoginResponse resp;
    auto s = stub->Login(&call.ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return resp.access_token();
  }

  static grpc::Status Probe(const std::string& daemon, const std::string& token) {
    return RawCall(*sut_->daemons[daemon]->channel(), kProbe.at(daemon), "", token);
  }

  // Every replica knows the account (so the refusal below is revocation, not
  // an unknown account being let through).
  static bool ReplicatedEverywhere(const std::string& id, int64_t version) {
    for (const auto& [daemon, url] : sut_->db) {
      if (daemon == "ates-auth") continue;
      if (QueryInt(url, "SELECT count(*) FROM accounts_replica WHERE id = $1 AND version >= $2",
                   {pg::Text(id), pg::Int(version)}) != 1) {
        return false;
      }
    }
    return true;
  }

  static authv1::UpdateAccountResponse Update(const authv1::UpdateAccountRequest& req) {
    auto stub = sut_->Auth();
    Call call(sut_->admin_token);
    authv1::UpdateAccountResponse resp;
    auto s = stub->UpdateAccount(&call.ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return resp;
  }

  // Calls every daemon until each refuses `token` as revoked; the seconds
  // each took from `since` (or -1 when it did not within `limit`).
  static std::map<std::string, double> TimeToRefusal(const std::string& token,
                                                     Clock::time_point since,
                                                     std::chrono::seconds limit) {
    std::map<std::string, double> seconds;
    for (const auto& [daemon, method] : kProbe) seconds[daemon] = -1;
    while (Clock::now() - since < limit) {
      bool all = true;
      for (auto& [daemon, took] : seconds) {
        if (took >= 0) continue;
        auto s = Probe(daemon, token);
        if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
          EXPECT_THAT(s.error_message(), HasSubstr("revoked")) << daemon;
          EXPECT_THAT(s.error_message(), HasSubstr("log in again")) << daemon;
          took = std::chrono::duration<double>(Clock::now() - since).count();
        } else {
          all = false;
        }
      }
      if (all) break;
      std::this_thread::sleep_for(20ms);
    }
    return seconds;
  }

  static void ExpectAcceptedEverywhere(const std::string& token) {
    for (const auto& [daemon, method] : kProbe) {
      auto s = Probe(daemon, token);
      EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << daemon << ": " << Describe(s);
    }
  }

  static void ExpectRefusedEverywhereWithin10s(const std::string& what, const std::string& token,
                                               Clock::time_point since) {
    auto seconds = TimeToRefusal(token, since, 15s);
    for (const auto& [daemon, took] : seconds) {
      std::cout << "REVOCATION " << what << " " << daemon << " refused after " << took << " s\n";
      EXPECT_GE(took, 0) << daemon << " still accepts the old token after 15 s";
      EXPECT_LT(took, 10.0) << daemon;
    }
  }

  static SystemUnderTest* sut_;
};

SystemUnderTest* PolicyDaemonsTest::sut_ = nullptr;

TEST_F(PolicyDaemonsTest, EveryMethodOfEveryDaemonHasAnAccessPolicy) {
  int methods = 0;
  for (const auto& [daemon, expected] : kServices) {
    auto& channel = *sut_->daemons[daemon]->channel();
    auto served = ReflectedServices(channel);
    std::set<std::string> own;
    for (const auto& name : served) {
      if (name.rfind("grpc.", 0) != 0) own.insert(name);
    }
    EXPECT_EQ(own, expected) << daemon;
    EXPECT_THAT(served, ::testing::Contains("grpc.health.v1.Health")) << daemon;
    for (const auto& name : own) {
      const auto* service = ServiceDescriptor(name);
      ASSERT_NE(service, nullptr) << name;
      for (int i = 0; i < service->method_count(); ++i) {
        std::string method = "/" + name + "/" + service->method(i)->name();
        ++methods;
        // No token: the door answers before any handler, from the method's
        // policy. A method without one would be PERMISSION_DENIED "no access policy".
        auto s = RawCall(channel, method, "", "");
        EXPECT_THAT(s.error_message(), ::testing::Not(HasSubstr("no access policy")))
            << daemon << " " << method;
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << daemon << " " << method;
        if (kPublicMethods.count(method)) {
          EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
        } else {
          EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
              << daemon << " " << method << ": " << Describe(s);
        }
      }
    }
    // Health is public (probes carry no token); reflection answered above.
    auto health = grpc::health::v1::Health::NewStub(sut_->daemons[daemon]->channel());
    Call call;
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    EXPECT_TRUE(health->Check(&call.ctx, req, &resp).ok()) << daemon;
  }
  std::cout << "POLICY methods checked: " << methods << "\n";
  EXPECT_GE(methods, 5 + 7 + 5 + 3 + 2 + 4 * 2);
}

TEST_F(PolicyDaemonsTest, DeactivatedWorkersOldTokenIsRefusedAtEveryDaemonWithin10s) {
  auto [id, token] = NewAccount("revoked-worker", ::ates::common::v1::ROLE_WORKER);
  ASSERT_TRUE(Eventually([&] { return ReplicatedEverywhere(id, 1); }, 20s));
  ExpectAcceptedEverywhere(token);

  authv1::UpdateAccountRequest req;
  req.set_account_id(id);
  req.set_active(false);
  auto since = Clock::now();
  EXPECT_FALSE(Update(req).account().active());
  ExpectRefusedEverywhereWithin10s("deactivated", token, since);
}

TEST_F(PolicyDaemonsTest, RoleChangeRefusesTheOldTokenEverywhereAndANewLoginWorks) {
  auto [id, token] = NewAccount("promoted-worker", ::ates::common::v1::ROLE_WORKER);
  ASSERT_TRUE(Eventually([&] { return ReplicatedEverywhere(id, 1); }, 20s));
  ExpectAcceptedEverywhere(token);

  authv1::UpdateAccountRequest req;
  req.set_account_id(id);
  req.set_role(::ates::common::v1::ROLE_MANAGER);
  auto since = Clock::now();
  EXPECT_EQ(Update(req).account().role(), ::ates::common::v1::ROLE_MANAGER);
  ExpectRefusedEverywhereWithin10s("role-changed", token, since);

  auto fresh = Login("promoted-worker");
  ExpectAcceptedEverywhere(fresh);
  // The new token carries the new role: a manager passes the door of
  // ShuffleTasks (whatever the shuffle itself then finds to do).
  auto s = RawCall(*sut_->daemons["ates-tasks"]->channel(),
                   "/ates.tasks.v1.TaskService/ShuffleTasks", "", fresh);
  EXPECT_NE(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
  EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
}

TEST_F(PolicyDaemonsTest, DeactivatedAdminsOldTokenCannotReactivateTheAccount) {
  auto [id, token] = NewAccount("rogue-admin", ::ates::common::v1::ROLE_ADMIN);
  authv1::UpdateAccountRequest off;
  off.set_account_id(id);
  off.set_active(false);
  EXPECT_FALSE(Update(off).account().active());

  // At once, not eventually: ates-auth refreshes its view before
  // UpdateAccount returns.
  auto stub = sut_->Auth();
  authv1::UpdateAccountRequest on;
  on.set_account_id(id);
  on.set_active(true);
  Call call(token);
  authv1::UpdateAccountResponse resp;
  auto s = stub->UpdateAccount(&call.ctx, on, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("revoked"));

  Call get(sut_->admin_token);
  authv1::GetAccountRequest g;
  g.set_account_id(id);
  authv1::GetAccountResponse account;
  ASSERT_TRUE(stub->GetAccount(&get.ctx, g, &account).ok());
  EXPECT_FALSE(account.account().active());
  EXPECT_EQ(QueryInt(sut_->db["ates-auth"],
                     "SELECT count(*) FROM accounts WHERE id = $1 AND active", {pg::Text(id)}),
            0);
}

TEST_F(PolicyDaemonsTest, AReplicaThatDidNotConsumeTheEventRefusesTheTokenToo) {
  // A second ates-tasks on the same database and the same durable consumer:
  // each account event reaches one of the two, and the other one learns it
  // from the shared accounts_replica table (refreshed every second).
  Daemon second(SystemDaemon("policy-tasks-2", "ates-tasks", ATES_TASKS_BIN, sut_->db["ates-tasks"],
                             {{"ATES_AUTH_KEYS_URL", sut_->daemons["ates-auth"]->target()},
                              {"ATES_CONSUMERS_ACCOUNTS_DURABLE", "policy_tasks_accounts"}},
                             {}));
  second.Start();
  std::map<std::string, Daemon*> replicas = {{"first", sut_->daemons["ates-tasks"].get()},
                                             {"second", &second}};
  std::vector<std::pair<std::string, std::string>> accounts;
  for (int i = 0; i < 4; ++i) {
    accounts.push_back(NewAccount("shared-" + std::to_string(i), ::ates::common::v1::ROLE_WORKER));
  }
  for (const auto& [id, token] : accounts) {
    ASSERT_TRUE(Eventually([&, id = id] { return ReplicatedEverywhere(id, 1); }, 20s));
  }
  for (const auto& [id, token] : accounts) {
    authv1::UpdateAccountRequest req;
    req.set_account_id(id);
    req.set_active(false);
    auto since = Clock::now();
    Update(req);
    for (const auto& [name, daemon] : replicas) {
      bool refused = Eventually(
          [&, token = token] {
            return RawCall(*daemon->channel(), kProbe.at("ates-tasks"), "", token).error_code() ==
                   grpc::StatusCode::UNAUTHENTICATED;
          },
          10s, 10ms);
      double took = std::chrono::duration<double>(Clock::now() - since).count();
      std::cout << "REVOCATION shared-consumer tasks replica " << name << " refused after " << took
                << " s\n";
      EXPECT_TRUE(refused) << name;
      EXPECT_LT(took, 5.0) << name;
    }
  }
}

}  // namespace
}  // namespace ates::test
