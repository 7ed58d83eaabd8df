// The policy table (ADR 0017): built against the generated descriptors, so a
// misspelt or forgotten method stops the daemon at start; the string check
// of requests; the revocation view.
#include "ates/platform/policy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analytics_grpc_service.hpp"
#include "ates/platform/account_states.hpp"
#include "ates/platform/config.hpp"
#include "ates/platform/dead_letter_service.hpp"
#include "ates/platform/text_check.hpp"
#include "auth_grpc_service.hpp"
#include "billing_grpc_service.hpp"
#include "scheduler_grpc_service.hpp"
#include "task_grpc_service.hpp"

namespace ates::platform {
namespace {

using ::testing::HasSubstr;

TEST(ServicePolicyTest, AMethodNameTheServiceDoesNotHaveIsAConfigError) {
  try {
    ServicePolicy::For<tasks::v1::TaskService>().Authenticated("CreateTsak");
    FAIL() << "a misspelt method was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("CreateTsak"));
    EXPECT_THAT(e.what(), HasSubstr("ates.tasks.v1.TaskService"));
  }
}

TEST(ServicePolicyTest, AMethodWithoutAnEntryIsAConfigErrorNamingIt) {
  auto policy = ServicePolicy::For<tasks::v1::TaskService>()
                    .Authenticated("CreateTask")
                    .Authenticated("GetTask")
                    .Authenticated("ListTasks")
                    .Authenticated("CompleteTask");
  try {
    policy.Complete();
    FAIL() << "an incomplete policy was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("ShuffleTasks"));
  }
  PolicyTable table;
  EXPECT_THROW(table.Add(policy), ConfigError);
  EXPECT_EQ(table.Find("/ates.tasks.v1.TaskService/CreateTask"), nullptr);
}

TEST(ServicePolicyTest, AMethodNamedTwiceOrAServiceAddedTwiceIsAConfigError) {
  EXPECT_THROW(ServicePolicy::For<scheduler::v1::SchedulerService>()
                   .Roles("ListClosedCycles", {auth::Role::kAdmin})
                   .Authenticated("ListClosedCycles"),
               ConfigError);
  PolicyTable table;
  table.Add(scheduler::SchedulerGrpcService::Policy());
  EXPECT_THROW(table.Add(scheduler::SchedulerGrpcService::Policy()), ConfigError);
}

TEST(ServicePolicyTest, EveryServiceOfEveryDaemonHasACompletePolicy) {
  PolicyTable table;
  for (const auto& policy : PlatformServicePolicies()) table.Add(policy);
  table.Add(auth::AuthGrpcService::Policy());
  table.Add(tasks::TaskGrpcService::Policy());
  table.Add(billing::BillingGrpcService::Policy());
  table.Add(analytics::AnalyticsGrpcService::Policy());
  table.Add(scheduler::SchedulerGrpcService::Policy());
  table.Add(DeadLetterGrpcService::Policy());
  // Every method of every service, as the generated descriptors list them
  // (health 2 and reflection 1 besides the services of aTES).
  size_t methods = 2 + 1;
  for (const char* service :
       {"ates.auth.v1.AuthService", "ates.tasks.v1.TaskService", "ates.billing.v1.BillingService",
        "ates.analytics.v1.AnalyticsService", "ates.scheduler.v1.SchedulerService",
        "ates.ops.v1.DeadLetterService"}) {
    methods += static_cast<size_t>(ServicePolicy::FindService(service)->method_count());
  }
  EXPECT_EQ(table.entries().size(), methods);
  const auto* shuffle = table.Find("/ates.tasks.v1.TaskService/ShuffleTasks");
  ASSERT_NE(shuffle, nullptr);
  EXPECT_EQ(shuffle->access, MethodPolicy::Access::kRoles);
  EXPECT_EQ(shuffle->roles, (std::set<auth::Role>{auth::Role::kAdmin, auth::Role::kManager}));
  EXPECT_EQ(table.Find("/ates.auth.v1.AuthService/Login")->access, MethodPolicy::Access::kPublic);
  EXPECT_FALSE(table.Find("/grpc.health.v1.Health/Check")->check_input);
  EXPECT_TRUE(table.Find("/ates.auth.v1.AuthService/Login")->check_input);
}

TEST(TextCheckTest, Utf8ValidityFollowsTheStandard) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xd0\x9f\xd0\xbe\xd0\xbf\xd1\x83\xd0\xb3"));  // Попуг
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\xa6\x9c"));                          // parrot emoji
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("ok\x80"));            // stray continuation byte
}

TEST(TextCheckTest, NulAndBadUtf8AreFoundInNestedAndRepeatedFields) {
  ops::v1::ReplayDeadLettersRequest clean;
  EXPECT_TRUE(TextViolations(clean).empty());

  tasks::v1::CreateTaskRequest req;
  req.set_title(std::string("a\0b", 3));
  req.set_description("fine");
  req.set_jira_id("\xff");
  auto v = TextViolations(req);
  ASSERT_EQ(v.size(), 2u);
  std::map<std::string, std::string> by_field;
  for (const auto& x : v) by_field[x.field] = x.description;
  EXPECT_THAT(by_field["title"], HasSubstr("NUL"));
  EXPECT_THAT(by_field["jira_id"], HasSubstr("UTF-8"));

  tasks::v1::CreateTaskResponse resp;  // a message field with strings inside
  resp.mutable_task()->set_title(std::string("\0", 1));
  v = TextViolations(resp);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].field, "task.title");
}

TEST(AccountStatesTest, DeactivatedOrNewerAccountsAreRevokedUnknownOnesPass) {
  std::vector<AccountStateRow> rows = {{"a-active", 3, true, 100}, {"a-off", 1, false, 101}};
  std::vector<double> asked;
  AccountStates states([&](double since) {
    asked.push_back(since);
    return rows;
  });
  states.Refresh();
  auto who = [](std::string id, int64_t ver) {
    auth::Principal p;
    p.account_id = std::move(id);
    p.account_version = ver;
    return p;
  };
  EXPECT_NO_THROW(states.CheckNotRevoked(who("a-active", 3)));
  EXPECT_NO_THROW(states.CheckNotRevoked(who("a-unknown", 0)));
  EXPECT_THROW(states.CheckNotRevoked(who("a-active", 2)), ates::Error);
  EXPECT_THROW(states.CheckNotRevoked(who("a-off", 1)), ates::Error);
  try {
    states.CheckNotRevoked(who("a-off", 1));
  } catch (const ates::Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnauthenticated);
    EXPECT_THAT(e.what(), HasSubstr("log in again"));
  }
  // The next refresh asks from the newest updated_at seen, less an overlap.
  rows = {{"a-active", 4, true, 102}};
  states.Refresh();
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0], 0);
  EXPECT_GT(asked[1], 80);
  EXPECT_LE(asked[1], 101);
  EXPECT_THROW(states.CheckNotRevoked(who("a-active", 3)), ates::Error);
}

}  // namespace
}  // namespace ates::platform
