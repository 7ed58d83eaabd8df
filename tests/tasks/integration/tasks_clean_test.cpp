// ates-tasks from a clean slate. This binary has its own NATS, so its ACCOUNTS
// stream holds only the accounts made here: first nobody assignable (only the
// admin and a manager), then exactly five workers for the statistical test.
// (In a shared binary a fresh ates-tasks with a new durable would replay every
// other test's workers from ACCOUNTS and always find someone to assign to.)
//
// The tests leave no assignable account behind (the statistical test
// deactivates its workers at the end), so they hold in either order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "support/tasks_helpers.hpp"

namespace ates::test {
namespace {

// Fixed seed for the whole binary: the draws are repeatable, so the chi-square
// statistic below is the same on every run.
constexpr const char* kSeed = "424242";
// Threshold: the statistical test fails when p < 0.001.
constexpr double kAlpha = 0.001;

class TasksCleanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      env_ = new TasksEnv("tasks_clean", {{"ATES_TASKS_RANDOM_SEED", kSeed}});
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static int64_t ReplicaAssignable() {
    return env_->Q(
        "SELECT count(*) FROM accounts_replica WHERE active AND role IN ('worker', 'accountant')");
  }

  static inline TasksEnv* env_ = nullptr;
  static inline std::string* setup_error_ = nullptr;
};

TEST_F(TasksCleanTest, NoAssignableAccountIsFailedPreconditionAndStoresNothing) {
  auto manager = env_->NewAccount("clean-manager", ROLE_MANAGER);
  ASSERT_EQ(ReplicaAssignable(), 0) << "another test left an assignable account";
  ASSERT_GE(env_->Q("SELECT count(*) FROM accounts_replica"), 2) << "admin and manager replicated";
  uint64_t seq0 = env_->Quiesce();
  int64_t tasks0 = env_->Q("SELECT count(*) FROM tasks");

  // Both the admin and the manager may create tasks, but nobody can take one.
  for (const Popug* who : std::vector<const Popug*>{&env_->admin, &manager}) {
    tasksv1::Task t;
    auto s =
        env_->Create(who->token, "Nobody can take this", &t, "UP-1", "desc", "req-" + who->login);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);
    EXPECT_TRUE(t.id().empty()) << "a task came back with the error";
  }
  EXPECT_EQ(env_->Q("SELECT count(*) FROM tasks"), tasks0);
  EXPECT_EQ(env_->Q("SELECT count(*) FROM outbox"), 0) << "events written for no task";

  // A worker appears: the same request now succeeds and the key was not
  // burned by the failed attempt.
  auto worker = env_->NewAccount("clean-worker", ROLE_WORKER);
  tasksv1::Task first;
  auto s =
      env_->Create(env_->admin.token, "Nobody can take this", &first, "UP-1", "desc", "req-admin");
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(first.assignee_id(), worker.id);
  uint64_t seq1 = env_->Quiesce();
  // The TASKS stream got exactly this task's two events, nothing from the failures.
  ASSERT_EQ(seq1, seq0 + 2);
  const auto& all = env_->Events();
  for (const auto& e : all) {
    if (e.msg.seq > seq0) {
      EXPECT_EQ(e.task_id, first.id()) << e.msg.subject;
    }
  }

  // The only worker is deactivated: no one is assignable again.
  worker = env_->Update(worker, std::nullopt, false);
  ASSERT_EQ(ReplicaAssignable(), 0);
  tasksv1::Task t;
  s = env_->Create(manager.token, "Still nobody", &t);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);
  // A shuffle has nobody to give the open task to: refused, task untouched.
  int64_t count = -1;
  s = env_->Shuffle(manager.token, &count);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(s);
  tasksv1::GetTaskResponse got;
  ASSERT_TRUE(env_->Get(env_->admin.token, first.id(), &got).ok());
  EXPECT_EQ(got.task().assignee_id(), worker.id);
  EXPECT_EQ(got.task().status(), tasksv1::TASK_STATUS_OPEN);
  EXPECT_EQ(got.task().version(), 1);
  EXPECT_EQ(env_->Q("SELECT count(*) FROM tasks"), tasks0 + 1);
  EXPECT_EQ(env_->Quiesce(), seq1) << "a refused call published an event";
}

TEST_F(TasksCleanTest, AssignmentAndShuffleAreUniformOverFiveWorkers) {
  ASSERT_EQ(ReplicaAssignable(), 0) << "another test left an assignable account";
  std::vector<Popug> workers;
  for (int i = 0; i < 5; ++i) {
    workers.push_back(env_->NewAccount("stat-worker-" + std::to_string(i), ROLE_WORKER));
  }
  // Deactivate them whatever happens, so the other test finds a clean slate.
  struct Cleanup {
    std::vector<Popug>& ws;
    ~Cleanup() {
      for (auto& w : ws) {
        try {
          env_->Update(w, std::nullopt, false);
        } catch (const std::exception& e) {
          ADD_FAILURE() << e.what();
        }
      }
    }
  } cleanup{workers};
  ASSERT_EQ(ReplicaAssignable(), 5);
  // Open tasks of the other test (if it ran first) join the shuffle; the
  // statistics below use this test's tasks only.
  int64_t before = env_->Q("SELECT count(*) FROM tasks WHERE status = 'open'");

  // 1. CreateTask: 2000 tasks, 8 concurrent clients, 400 expected per worker.
  constexpr int kTasks = 2000;
  auto created = env_->CreateMany(env_->admin.token, kTasks, "stat");
  std::map<std::string, int> index;
  for (int i = 0; i < 5; ++i) index[workers[i].id] = i;
  std::vector<double> counts(5, 0);
  std::map<std::string, int> first_owner;
  for (const auto& t : created) {
    auto it = index.find(t.assignee_id());
    ASSERT_NE(it, index.end()) << "task assigned to " << t.assignee_id();
    counts[it->second] += 1;
    first_owner[t.id()] = it->second;
  }
  // The database agrees with the responses.
  EXPECT_EQ(env_->Q("SELECT count(*) FROM tasks WHERE status = 'open'"), before + kTasks);
  std::vector<double> expected(5, kTasks / 5.0);
  auto chi = ChiSquare(counts, expected, 4);
  std::cout << "[stat] CreateTask assignees:";
  for (double c : counts) std::cout << " " << c;
  std::cout << "  chi2=" << chi.statistic << " df=4 p=" << chi.p_value << "\n";
  EXPECT_GE(chi.p_value, kAlpha) << "assignment is not uniform: chi-square " << chi.statistic;

  // 2. ShuffleTasks: every open task drawn again (set-based, random() per row).
  //    The 5x5 table previous -> new assignee must be uniform in each row:
  //    new assignee independent of the old one, the same one drawn 1/5 of the time.
  int64_t n = 0;
  auto s = env_->Shuffle(env_->admin.token, &n);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(n, before + kTasks);
  auto after = env_->ListAll(env_->admin.token, [] {
    tasksv1::ListTasksRequest r;
    r.set_page_size(500);
    return r;
  }());
  ASSERT_EQ(after.size(), static_cast<size_t>(before + kTasks));
  std::vector<double> cells(25, 0), shuffled(5, 0);
  for (const auto& t : after) {
    if (!first_owner.count(t.id())) continue;
    auto it = index.find(t.assignee_id());
    ASSERT_NE(it, index.end()) << "shuffled to " << t.assignee_id();
    cells[first_owner.at(t.id()) * 5 + it->second] += 1;
    shuffled[it->second] += 1;
  }
  auto chi_new = ChiSquare(shuffled, expected, 4);
  std::cout << "[stat] shuffle assignees:";
  for (double c : shuffled) std::cout << " " << c;
  std::cout << "  chi2=" << chi_new.statistic << " df=4 p=" << chi_new.p_value << "\n";
  EXPECT_GE(chi_new.p_value, kAlpha) << "shuffle is not uniform: chi-square " << chi_new.statistic;
  std::vector<double> cell_expected(25);
  for (int i = 0; i < 25; ++i) cell_expected[i] = counts[i / 5] / 5.0;
  auto chi_pairs = ChiSquare(cells, cell_expected, 20);
  std::cout << "[stat] shuffle previous->new: chi2=" << chi_pairs.statistic
            << " df=20 p=" << chi_pairs.p_value << "\n";
  EXPECT_GE(chi_pairs.p_value, kAlpha)
      << "new assignee depends on the previous one: chi-square " << chi_pairs.statistic;
  double same = cells[0] + cells[6] + cells[12] + cells[18] + cells[24];
  EXPECT_GT(same, 0) << "a shuffle may draw the current assignee again (ADR 0006)";
}

}  // namespace
}  // namespace ates::test
