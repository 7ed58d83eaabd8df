// The business limits of ates-tasks (issue 10): a per-account CreateTask rate
// and a cool-down between shuffles that holds across replicas. Both answer
// RESOURCE_EXHAUSTED with a google.rpc.RetryInfo delay and change nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "support/error_fields.hpp"
#include "support/tasks_helpers.hpp"

namespace ates::test {
namespace {

using namespace std::chrono_literals;

// 600 a minute: a new call every 100 ms once the burst of 3 is spent.
const std::map<std::string, std::string> kLimits = {{"ATES_TASKS_CREATE_PER_MINUTE", "600"},
                                                    {"ATES_TASKS_CREATE_BURST", "3"},
                                                    {"ATES_TASKS_SHUFFLE_COOLDOWN", "3s"}};

class TasksLimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      env_ = new TasksEnv("tasks_limits", kLimits);
      env_->NewAccount("limits-worker", ROLE_WORKER);
      // A second replica on the same database, with the same limits.
      second_ = new Daemon(TasksDaemon("tasks_limits-tasks2", env_->tasks_db, env_->auth->target(),
                                       "tasks_accounts_tasks_limits", kLimits));
      second_->Start();
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete second_;
    second_ = nullptr;
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static TasksEnv* env_;
  static Daemon* second_;
  static std::string* setup_error_;
};

TasksEnv* TasksLimitsTest::env_ = nullptr;
Daemon* TasksLimitsTest::second_ = nullptr;
std::string* TasksLimitsTest::setup_error_ = nullptr;

TEST_F(TasksLimitsTest, CreateBeyondTheBurstIsRefusedWithARetryDelayAndWritesNothing) {
  auto manager = env_->NewAccount("limits-manager", ROLE_MANAGER);
  auto other = env_->NewAccount("limits-other", ROLE_MANAGER);
  for (int i = 0; i < 3; ++i) env_->MustCreate(manager.token, "burst " + std::to_string(i));
  int64_t before = env_->Q("SELECT count(*) FROM tasks");
  auto refused = env_->Create(manager.token, "one too many");
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(refused);
  EXPECT_THAT(refused.error_message(), ::testing::HasSubstr("retry in"));
  auto delay = RetryDelay(refused);
  EXPECT_GT(delay, 0ms);
  EXPECT_LE(delay, 100ms);
  EXPECT_EQ(env_->Q("SELECT count(*) FROM tasks WHERE title = 'one too many'"), 0);
  EXPECT_EQ(env_->Q("SELECT count(*) FROM tasks"), before);
  // The limit is per account: another manager creates at once.
  env_->MustCreate(other.token, "someone else's");
  // After the delay it was given, the caller may create again.
  std::this_thread::sleep_for(delay + 20ms);
  EXPECT_TRUE(env_->Create(manager.token, "after waiting").ok());
}

TEST_F(TasksLimitsTest, ASecondShuffleWithinTheCooldownIsRefusedOnEveryReplica) {
  auto manager = env_->NewAccount("limits-shuffler", ROLE_MANAGER);
  env_->MustCreate(manager.token, "to shuffle");
  std::this_thread::sleep_for(3s);  // past any cool-down left by an earlier shuffle
  ASSERT_TRUE(env_->Shuffle(env_->admin.token).ok());
  // A shuffle bumps the version of every open task it reassigns.
  const char* kVersions = "SELECT coalesce(sum(version), 0) FROM tasks";
  auto versions_before = env_->Q(kVersions);
  auto again = env_->Shuffle(manager.token);
  ASSERT_EQ(again.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(again);
  EXPECT_GT(RetryDelay(again), 0ms);
  EXPECT_LE(RetryDelay(again), 3s);
  // The other replica shares the cool-down (it lives in the database).
  auto second_stub = tasksv1::TaskService::NewStub(second_->channel());
  Call c(manager.token);
  tasksv1::ShuffleTasksResponse resp;
  auto on_second = second_stub->ShuffleTasks(&c.ctx, tasksv1::ShuffleTasksRequest(), &resp);
  ASSERT_EQ(on_second.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(on_second);
  EXPECT_EQ(env_->Q(kVersions), versions_before);
  // Once the cool-down is over, a shuffle goes through (on either replica).
  std::this_thread::sleep_for(RetryDelay(on_second) + 50ms);
  Call later(manager.token, 30s);
  auto after = second_stub->ShuffleTasks(&later.ctx, tasksv1::ShuffleTasksRequest(), &resp);
  EXPECT_TRUE(after.ok()) << Describe(after);
}

}  // namespace
}  // namespace ates::test
