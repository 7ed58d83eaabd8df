#pragma once
// Helpers of the policy suites (ADR 0017): all five real daemons on one
// stack, calls by full method name with raw bytes (a generic stub), and the
// method list a daemon serves, read through its server reflection.

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ates/analytics/v1/analytics_service.grpc.pb.h"
#include "ates/billing/v1/billing_service.grpc.pb.h"
#include "ates/ops/v1/dead_letter_service.grpc.pb.h"
#include "ates/scheduler/v1/scheduler_service.grpc.pb.h"
#include "ates/tasks/v1/task_service.grpc.pb.h"
#include "support/auth_helpers.hpp"
#include "support/raw_call.hpp"
#include "support/wait.hpp"

namespace ates::test {

// The five daemons, each on its own database, with fresh durable consumers
// (prefix `tag`) so each replica replays ACCOUNTS from the start.
struct SystemUnderTest {
  std::map<std::string, std::string> db;  // service -> database URL
  std::map<std::string, std::unique_ptr<Daemon>> daemons;
  std::string admin_token;
  std::string admin_id;

  // `env` goes to every daemon on top of its settings (e.g. ATES_LOG_LEVEL).
  explicit SystemUnderTest(const std::string& tag,
                           const std::map<std::string, std::string>& env = {}) {
    auto& stack = TestStack::Get();
    for (const char* s :
         {"ates-auth", "ates-tasks", "ates-billing", "ates-analytics", "ates-scheduler"}) {
      std::string service = s;
      db[service] = stack.CreateDatabase(tag + "_" + service.substr(5));
    }
    daemons["ates-auth"] =
        std::make_unique<Daemon>(AuthDaemon(tag + "-auth", db["ates-auth"], env));
    daemons["ates-auth"]->Start();
    std::string keys = daemons["ates-auth"]->target();
    auto durable = [&](const std::string& what) { return tag + "_" + what; };
    daemons["ates-tasks"] = std::make_unique<Daemon>(
        SystemDaemon(tag + "-tasks", "ates-tasks", ATES_TASKS_BIN, db["ates-tasks"],
                     {{"ATES_AUTH_KEYS_URL", keys},
                      {"ATES_CONSUMERS_ACCOUNTS_DURABLE", durable("tasks_accounts")}},
                     env));
    daemons["ates-billing"] = std::make_unique<Daemon>(
        SystemDaemon(tag + "-billing", "ates-billing", ATES_BILLING_BIN, db["ates-billing"],
                     {{"ATES_AUTH_KEYS_URL", keys},
                      {"ATES_CONSUMERS_ACCOUNTS_DURABLE", durable("billing_accounts")},
                      {"ATES_CONSUMERS_TASKS_DURABLE", durable("billing_tasks")},
                      {"ATES_CONSUMERS_SCHEDULE_DURABLE", durable("billing_schedule")},
                      {"ATES_BILLING_MAIL_DIR", stack.dir() + "/" + tag + "-mail"}},
                     env));
    daemons["ates-analytics"] = std::make_unique<Daemon>(
        SystemDaemon(tag + "-analytics", "ates-analytics", ATES_ANALYTICS_BIN, db["ates-analytics"],
                     {{"ATES_AUTH_KEYS_URL", keys},
                      {"ATES_CONSUMERS_ACCOUNTS_DURABLE", durable("analytics_accounts")},
                      {"ATES_CONSUMERS_TASKS_DURABLE", durable("analytics_tasks")},
                      {"ATES_CONSUMERS_BILLING_DURABLE", durable("analytics_billing")},
                      {"ATES_CONSUMERS_SCHEDULE_DURABLE", durable("analytics_schedule")}},
                     env));
    daemons["ates-scheduler"] = std::make_unique<Daemon>(
        SystemDaemon(tag + "-scheduler", "ates-scheduler", ATES_SCHEDULER_BIN, db["ates-scheduler"],
                     {{"ATES_AUTH_KEYS_URL", keys},
                      {"ATES_CONSUMERS_ACCOUNTS_DURABLE", durable("scheduler_accounts")},
                      {"ATES_SCHEDULE_CHECK_INTERVAL", "1h"}},
                     env));
    for (auto& [name, d] : daemons) {
      if (name != "ates-auth") d->Start();
    }
    auto stub = authv1::AuthService::NewStub(daemons["ates-auth"]->channel());
    Call call;
    authv1::LoginRequest req;
    req.set_login(kAdminLogin);
    req.set_password(kAdminPassword);
    authv1::LoginResponse resp;
    auto s = stub->Login(&call.ctx, req, &resp);
    if (!s.ok()) throw std::runtime_error("admin login: " + s.error_message());
    admin_token = resp.access_token();
    admin_id = resp.account().id();
  }

  std::unique_ptr<authv1::AuthService::Stub> Auth() {
    return authv1::AuthService::NewStub(daemons["ates-auth"]->channel());
  }
};

// Links every service schema of aTES into this binary's descriptor pool.
inline const google::protobuf::ServiceDescriptor* ServiceDescriptor(const std::string& name) {
  (void)authv1::LoginRequest::descriptor();
  (void)::ates::tasks::v1::CreateTaskRequest::descriptor();
  (void)::ates::billing::v1::GetBalanceRequest::descriptor();
  (void)::ates::analytics::v1::GetEarningsRequest::descriptor();
  (void)::ates::scheduler::v1::ListClosedCyclesRequest::descriptor();
  (void)::ates::ops::v1::ListDeadLettersRequest::descriptor();
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
}

}  // namespace ates::test
