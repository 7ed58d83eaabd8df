// ates-tasks with its database behind a proxy that loses the connection right
// at a COMMIT (tests/support/pg_proxy): CreateTask, ShuffleTasks and
// CompleteTask still apply once. Every call succeeds here (the database stays
// up, so the daemon learns the outcome), and nothing is assigned or charged twice.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "support/pg_proxy.hpp"
#include "support/tasks_helpers.hpp"

namespace ates::test {
namespace {

using Drop = PgProxy::Drop;

// Statement texts the proxy watches for (from internal/tasks/task_service.cpp).
constexpr const char* kCreateSql = "INSERT INTO tasks";
constexpr const char* kShuffleSql = "UPDATE tasks t SET previous_assignee_id";
constexpr const char* kCompleteSql = "UPDATE tasks SET status = 'completed'";

class TasksCommitTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      proxy_ = new PgProxy(TestStack::Get().pg_port());
      env_ = new TasksEnv("commit", {}, [](const std::string& url) { return proxy_->Url(url); });
      env_->NewAccount("commit_w1", ROLE_WORKER);
      env_->NewAccount("commit_w2", ROLE_WORKER);
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
    delete proxy_;
    proxy_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
    proxy_->Disarm();
  }

  // tasks.task.assigned events per task on TASKS, after the outbox drained.
  std::map<std::string, int> AssignedPerTask() {
    env_->Quiesce();
    std::map<std::string, int> n;
    for (const auto& e : env_->Events()) {
      if (e.kind == "assigned") ++n[e.task_id];
    }
    return n;
  }
  int CountKind(const std::string& task_id, const std::string& kind) {
    int n = 0;
    for (const auto* e : env_->EventsOf(task_id)) n += e->kind == kind;
    return n;
  }
  int LearnedOutcomes() {
    std::string log = env_->tasks->Log();
    int n = 0;
    for (size_t at = 0; (at = log.find("commit outcome learned", at)) != std::string::npos; ++at)
      ++n;
    return n;
  }

  static inline PgProxy* proxy_ = nullptr;
  static inline TasksEnv* env_ = nullptr;
  static inline std::string* setup_error_ = nullptr;
};

TEST_F(TasksCommitTest, CreateTaskWithoutRequestIdCreatesOneTaskWhenTheCommitReplyIsLost) {
  for (Drop drop : {Drop::kAfterCommit, Drop::kBeforeCommit}) {
    SCOPED_TRACE(drop == Drop::kAfterCommit ? "committed" : "aborted");
    std::string title = std::string("Lost reply ") + (drop == Drop::kAfterCommit ? "a" : "b");
    int drops = proxy_->drops();
    int learned = LearnedOutcomes();
    proxy_->Arm(drop, kCreateSql);
    tasksv1::Task t;
    auto s = env_->Create(env_->admin.token, title, &t);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(proxy_->drops(), drops + 1) << "the commit was not cut";
    EXPECT_TRUE(Eventually([&] { return LearnedOutcomes() == learned + 1; }, 5s))
        << "the daemon did not ask whether its transaction committed";
    EXPECT_EQ(env_->Q("SELECT count(*) FROM tasks WHERE title = $1", {pg::Text(title)}), 1);
    EXPECT_EQ(env_->Q("SELECT count(*) FROM tasks WHERE id = $1", {pg::Text(t.id())}), 1);
    env_->Quiesce();
    EXPECT_EQ(CountKind(t.id(), "created"), 1);
    EXPECT_EQ(CountKind(t.id(), "assigned"), 1);
  }
}

TEST_F(TasksCommitTest, ShuffleChargesEachTaskOnceWhenTheCommitReplyIsLost) {
  for (int i = 0; i < 5; ++i) env_->MustCreate(env_->admin.token, "Shuffled " + std::to_string(i));
  for (Drop drop : {Drop::kAfterCommit, Drop::kBeforeCommit}) {
    SCOPED_TRACE(drop == Drop::kAfterCommit ? "committed" : "aborted");
    auto before = AssignedPerTask();
    int64_t open = env_->Q("SELECT count(*) FROM tasks WHERE status = 'open'");
    int64_t versions = env_->Q("SELECT sum(version) FROM tasks WHERE status = 'open'");
    int drops = proxy_->drops();
    proxy_->Arm(drop, kShuffleSql);
    int64_t count = 0;
    auto s = env_->Shuffle(env_->admin.token, &count);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(proxy_->drops(), drops + 1) << "the commit was not cut";
    EXPECT_EQ(count, open);
    EXPECT_EQ(env_->Q("SELECT sum(version) FROM tasks WHERE status = 'open'"), versions + open)
        << "each open task must be reassigned exactly once";
    auto after = AssignedPerTask();
    int64_t open_seen = 0;
    for (const auto& [task_id, n] : after) {
      if (env_->Q("SELECT count(*) FROM tasks WHERE id = $1 AND status = 'open'",
                  {pg::Text(task_id)}) == 0) {
        continue;
      }
      ++open_seen;
      EXPECT_EQ(n, before[task_id] + 1)
          << "task " << task_id << " charged " << n - before[task_id] << " times by one shuffle";
    }
    EXPECT_EQ(open_seen, open);
  }
}

TEST_F(TasksCommitTest, CompleteTaskPublishesOneCompletionWhenTheCommitReplyIsLost) {
  auto t = env_->MustCreate(env_->admin.token, "Completed despite a lost reply");
  auto assignee = env_->Find(t.assignee_id());
  ASSERT_TRUE(assignee);
  proxy_->Arm(Drop::kAfterCommit, kCompleteSql);
  int drops = proxy_->drops();
  auto s = env_->Complete(assignee->token, t.id());
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(proxy_->drops(), drops + 1);
  env_->Quiesce();
  EXPECT_EQ(CountKind(t.id(), "completed"), 1);
}

}  // namespace
}  // namespace ates::test
