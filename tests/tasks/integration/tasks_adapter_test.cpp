// TaskGrpcService in-process (support/in_process_server.hpp): the adapter and
// the domain behind the daemons' call admission, against a real PostgreSQL,
// without an ates-tasks process. What a caller sees of the adapter: a bad
// request is INVALID_ARGUMENT naming the field and writes nothing; a good one
// returns the task, assigned to the only worker, with its events in the outbox.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ates/contracts/accounts_replica.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/pg.hpp"
#include "ates/platform/random.hpp"
#include "ates/tasks/v1/task_service.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "support/in_process_server.hpp"
#include "support/test_stack.hpp"
#include "task_grpc_service.hpp"
#include "task_service.hpp"

const std::vector<ates::pg::Migration>& TasksMigrations();

namespace ates::tasks {
namespace {

namespace tv1 = ::ates::tasks::v1;

class TasksAdapterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = std::make_unique<pg::Pool>(test::TestStack::Get().CreateDatabase("tasks_adapter"), 4);
    pg::Migrate(*pool_, pg::PlatformMigrations());
    pg::Migrate(*pool_, contracts::AccountsReplicaMigrations());
    pg::Migrate(*pool_, TasksMigrations());
    AddAccount(manager_, "manager");
    AddAccount(worker_, "worker");
    tasks_ = std::make_unique<TaskService>(*pool_, picker_, [] {});
    adapter_ = std::make_unique<TaskGrpcService>(*tasks_);
    server_.Add(*adapter_, TaskGrpcService::Policy());
    server_.Start();
    stub_ = tv1::TaskService::NewStub(server_.channel());
  }

  void AddAccount(const std::string& id, const std::string& role) {
    pool_->WithRetry([&](pg::Connection& c) {
      return c.Exec(
          "INSERT INTO accounts_replica (id, login, full_name, email, role, active, version)"
          " VALUES ($1, $2, $2, $2 || '@popug.test', $3, true, 1)",
          {pg::Text(id), pg::Text(role + "-" + id.substr(0, 8)), pg::Text(role)});
    });
  }

  int64_t Count(const char* sql) {
    return pool_->WithRetry([&](pg::Connection& c) { return c.Exec(sql).Int(0, 0); });
  }

  grpc::Status Create(const tv1::CreateTaskRequest& req, tv1::CreateTaskResponse* resp) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", server_.Token(manager_, auth::Role::kManager, 1));
    return stub_->CreateTask(&ctx, req, resp);
  }

  const std::string manager_ = events::NewUuid();
  const std::string worker_ = events::NewUuid();
  std::unique_ptr<pg::Pool> pool_;
  platform::RandomPicker picker_{42};
  std::unique_ptr<TaskService> tasks_;
  std::unique_ptr<TaskGrpcService> adapter_;
  test::InProcessServer server_;
  std::unique_ptr<tv1::TaskService::Stub> stub_;
};

TEST_F(TasksAdapterTest, ABadTitleIsInvalidArgumentNamingTheFieldAndWritesNothing) {
  tv1::CreateTaskRequest req;
  req.set_title("[UP-1] brackets belong in jira_id");
  tv1::CreateTaskResponse resp;
  grpc::Status s = Create(req, &resp);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  google::rpc::Status rich;
  google::rpc::BadRequest bad;
  ASSERT_TRUE(rich.ParseFromString(s.error_details()));
  ASSERT_GT(rich.details_size(), 0);
  ASSERT_TRUE(rich.details(0).UnpackTo(&bad));
  ASSERT_GT(bad.field_violations_size(), 0);
  EXPECT_EQ(bad.field_violations(0).field(), "title");
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox"), 0);
}

TEST_F(TasksAdapterTest, ACreatedTaskGoesToTheOnlyWorkerWithItsEventsInTheOutbox) {
  tv1::CreateTaskRequest req;
  req.set_title("Feed the popugs");
  req.set_jira_id("UP-7");
  tv1::CreateTaskResponse resp;
  grpc::Status s = Create(req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.task().title(), "Feed the popugs");
  EXPECT_EQ(resp.task().assignee_id(), worker_);
  EXPECT_EQ(resp.task().created_by(), manager_);
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE event_type = 'tasks.task.created'"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE event_type = 'tasks.task.assigned'"), 1);
}

TEST_F(TasksAdapterTest, ACallWithoutATokenIsUnauthenticatedAndWritesNothing) {
  grpc::ClientContext ctx;
  tv1::CreateTaskRequest req;
  req.set_title("no token");
  tv1::CreateTaskResponse resp;
  grpc::Status s = stub_->CreateTask(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_EQ(Count("SELECT count(*) FROM tasks"), 0);
}

}  // namespace
}  // namespace ates::tasks
