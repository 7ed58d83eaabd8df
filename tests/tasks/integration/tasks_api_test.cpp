// ates.tasks.v1.TaskService through the real ates-tasks daemon over real gRPC,
// with a real ates-auth (tokens, ACCOUNTS events), PostgreSQL and nats-server.
//
// One ates-tasks for the whole suite: its account replica holds every account
// made here. The tests run one after another; each one reasons only about the
// accounts and tasks it made, or about invariants that hold for all tasks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "support/tasks_helpers.hpp"

namespace ates::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Clock = std::chrono::system_clock;
using Who = std::vector<const Popug*>;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

class TasksApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      env_ = new TasksEnv("tasks_api");
      manager_ = new Popug(env_->NewAccount("manager-1", ROLE_MANAGER));
      for (int i = 0; i < 3; ++i) {
        workers_.push_back(env_->NewAccount("worker-" + std::to_string(i), ROLE_WORKER));
      }
      accountant_ = new Popug(env_->NewAccount("accountant-1", ROLE_ACCOUNTANT));
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  // The token of whoever a task is assigned to (every account is made through env_).
  static Popug Owner(const tasksv1::Task& t) {
    auto p = env_->Find(t.assignee_id());
    EXPECT_TRUE(p.has_value()) << "task " << t.id() << " assigned to unknown " << t.assignee_id();
    return p.value_or(Popug{});
  }

  // Some account other than `id` that is assignable (a worker or the accountant).
  static Popug SomeoneElse(const std::string& id) {
    for (const auto& w : workers_) {
      if (w.id != id) return w;
    }
    return *accountant_;
  }

  static int64_t TaskCount() { return env_->Q("SELECT count(*) FROM tasks"); }

  static inline TasksEnv* env_ = nullptr;
  static inline Popug* manager_ = nullptr;
  static inline Popug* accountant_ = nullptr;
  static inline std::vector<Popug> workers_;
  static inline std::string* setup_error_ = nullptr;
};

// ---- create ------------------------------------------------------------------------

TEST_F(TasksApiTest, CreateTaskStoresAnOpenTaskAssignedAtOnce) {
  int64_t before = NowMicros();
  tasksv1::Task t;
  auto s = env_->Create(workers_[0].token, "Fix the beak", &t, "UP-42", "It squeaks.");
  ASSERT_TRUE(s.ok()) << Describe(s);
  int64_t after = NowMicros();
  EXPECT_TRUE(events::IsUuid(t.id()));
  EXPECT_EQ(t.title(), "Fix the beak");
  EXPECT_EQ(t.jira_id(), "UP-42");
  EXPECT_EQ(t.description(), "It squeaks.");
  EXPECT_EQ(t.status(), tasksv1::TASK_STATUS_OPEN);
  EXPECT_EQ(t.created_by(), workers_[0].id) << "any authenticated account creates tasks";
  EXPECT_EQ(t.version(), 1);
  EXPECT_FALSE(t.has_completed_at());
  EXPECT_GE(Micros(t.created_at()), before);
  EXPECT_LE(Micros(t.created_at()), after);
  EXPECT_TRUE(env_->AssignableIds().count(t.assignee_id())) << t.assignee_id();

  // GetTask as admin returns the same stored task.
  tasksv1::GetTaskResponse got;
  ASSERT_TRUE(env_->Get(env_->admin.token, t.id(), &got).ok());
  EXPECT_EQ(got.task().SerializeAsString(), t.SerializeAsString());
  EXPECT_EQ(env_->Q("SELECT count(*) FROM tasks WHERE id = $1 AND assignee_id = $2",
                    {pg::Text(t.id()), pg::Text(t.assignee_id())}),
            1);

  // Without a token: UNAUTHENTICATED, nothing stored.
  int64_t n = TaskCount();
  s = env_->Create("", "No token");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  s = env_->Create("not-a-token", "Bad token");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_EQ(TaskCount(), n);
}

TEST_F(TasksApiTest, TasksGoOnlyToActiveWorkersAndAccountants) {
  // Every role present, plus a promoted worker and a deactivated one.
  auto manager2 = env_->NewAccount("role-manager", ROLE_MANAGER);
  auto admin2 = env_->NewAccount("role-admin", ROLE_ADMIN);
  auto promoted = env_->NewAccount("role-promoted", ROLE_WORKER);
  promoted = env_->Update(promoted, ROLE_MANAGER, std::nullopt);
  auto retired = env_->NewAccount("role-retired", ROLE_WORKER);
  retired = env_->Update(retired, std::nullopt, false);
  auto doomed = env_->NewAccount("role-doomed", ROLE_ACCOUNTANT);
  std::set<std::string> never = {env_->admin.id, admin2.id,   manager_->id,
                                 manager2.id,    promoted.id, retired.id};

  auto allowed = env_->AssignableIds();
  ASSERT_TRUE(allowed.count(doomed.id));
  // The replica agrees with what ates-auth says.
  EXPECT_EQ(env_->Q("SELECT count(*) FROM accounts_replica WHERE active AND role IN"
                    " ('worker', 'accountant')"),
            static_cast<int64_t>(allowed.size()));

  auto first = env_->CreateMany(manager2.token, 200, "roles");
  std::map<std::string, int> per;
  for (const auto& t : first) {
    EXPECT_TRUE(allowed.count(t.assignee_id())) << "assigned to " << t.assignee_id();
    EXPECT_FALSE(never.count(t.assignee_id())) << "assigned to a non-assignable account";
    ++per[t.assignee_id()];
  }
  // ~8 candidates, 200 tasks: each one gets some (P(miss) < 1e-10).
  EXPECT_GT(per[doomed.id], 0) << "the accountant never got a task";
  EXPECT_EQ(per.size(), allowed.size()) << "some assignable account got no task";

  // Deactivate `doomed` while tasks are being created concurrently: the
  // candidate cache may still hold it, the SQL re-check must not let it through.
  std::atomic<bool> stop{false};
  std::atomic<bool> deactivated{false};
  std::mutex mu;
  std::vector<tasksv1::Task> after_deactivation;
  std::atomic<int> errors{0};
  std::vector<std::thread> creators;
  for (int c = 0; c < 4; ++c) {
    creators.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        bool late = deactivated.load();
        tasksv1::Task t;
        auto s = env_->Create(env_->admin.token,
                              "during " + std::to_string(c) + "-" + std::to_string(i), &t);
        if (!s.ok()) {
          ++errors;
          continue;
        }
        if (late) {
          std::lock_guard lock(mu);
          after_deactivation.push_back(t);
        }
      }
    });
  }
  doomed = env_->Update(doomed, std::nullopt, false);  // returns once the replica has it
  deactivated = true;
  Eventually([&] {
    std::lock_guard lock(mu);
    return after_deactivation.size() >= 200;
  });
  stop = true;
  for (auto& th : creators) th.join();
  EXPECT_EQ(errors.load(), 0);
  ASSERT_GE(after_deactivation.size(), 200u);
  for (const auto& t : after_deactivation) {
    ASSERT_NE(t.assignee_id(), doomed.id) << "task created after deactivation went to it";
    EXPECT_FALSE(never.count(t.assignee_id()));
  }
  // The candidate cache (ADR 0006: one second) is stale on purpose: the
  // replica row is switched off behind its back right after a task warmed it.
  // The insert's SQL re-check must still refuse the stale candidate.
  auto stale = env_->NewAccount("role-stale", ROLE_WORKER);
  env_->MustCreate(env_->admin.token, "warm the cache");
  {
    pg::Connection db(env_->tasks_db);
    db.Exec("UPDATE accounts_replica SET active = false WHERE id = $1", {pg::Text(stale.id)});
  }
  for (const auto& t : env_->CreateMany(env_->admin.token, 80, "stale cache")) {
    ASSERT_NE(t.assignee_id(), stale.id) << "assigned from a stale candidate cache";
  }
  stale = env_->Update(stale, std::nullopt, false);  // the same state through ates-auth

  // The database agrees: nothing was ever assigned to a non-assignable account,
  // and the deactivated one got nothing created after its deactivation.
  std::string list;
  for (const auto& id : never) list += (list.empty() ? "'" : ",'") + id + "'";
  EXPECT_EQ(env_->Q("SELECT count(*) FROM tasks WHERE assignee_id IN (" + list + ")"), 0);
  // A shuffle never picks it either.
  ASSERT_TRUE(env_->Shuffle(env_->admin.token).ok());
  never.insert(doomed.id);
  never.insert(stale.id);  // (the warm-up task may have gone to it before; shuffled away now)
  list.clear();
  for (const auto& id : never) list += (list.empty() ? "'" : ",'") + id + "'";
  EXPECT_EQ(
      env_->Q("SELECT count(*) FROM tasks WHERE status = 'open' AND assignee_id IN (" + list + ")"),
      0);
}

// ---- complete ----------------------------------------------------------------------

TEST_F(TasksApiTest, OnlyTheAssigneeCompletesAndCompletionIsFinalAndIdempotent) {
  auto t = env_->MustCreate(env_->admin.token, "Complete me");
  auto owner = Owner(t);
  ASSERT_FALSE(owner.token.empty());
  auto other = SomeoneElse(owner.id);
  for (const Popug* who : Who{&other, &env_->admin, manager_}) {
    tasksv1::CompleteTaskResponse resp;
    auto s = env_->Complete(who->token, t.id(), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << who->login << Describe(s);
    EXPECT_FALSE(resp.has_task()) << "data came back with PERMISSION_DENIED";
  }
  tasksv1::GetTaskResponse got;
  ASSERT_TRUE(env_->Get(env_->admin.token, t.id(), &got).ok());
  EXPECT_EQ(got.task().status(), tasksv1::TASK_STATUS_OPEN);
  EXPECT_EQ(got.task().version(), 1);

  int64_t before = NowMicros();
  tasksv1::CompleteTaskResponse done;
  auto s = env_->Complete(owner.token, t.id(), &done);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(done.task().status(), tasksv1::TASK_STATUS_COMPLETED);
  EXPECT_EQ(done.task().assignee_id(), owner.id);
  EXPECT_EQ(done.task().version(), 2);
  ASSERT_TRUE(done.task().has_completed_at());
  EXPECT_GE(Micros(done.task().completed_at()), before);
  EXPECT_LE(Micros(done.task().completed_at()), NowMicros());

  // Repeating it (also concurrently) returns the completed task, unchanged.
  std::vector<std::thread> again;
  std::atomic<int> same{0};
  for (int i = 0; i < 8; ++i) {
    again.emplace_back([&] {
      tasksv1::CompleteTaskResponse r;
      auto st = env_->Complete(owner.token, t.id(), &r);
      if (st.ok() && r.task().SerializeAsString() == done.task().SerializeAsString()) ++same;
    });
  }
  for (auto& th : again) th.join();
  EXPECT_EQ(same.load(), 8);
  // Still nobody else, admin included.
  for (const Popug* who : Who{&other, &env_->admin}) {
    EXPECT_EQ(env_->Complete(who->token, t.id()).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  // Exactly one completed event.
  env_->Quiesce();
  auto evs = env_->EventsOf(t.id());
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0]->kind, "created");
  EXPECT_EQ(evs[1]->kind, "assigned");
  EXPECT_EQ(evs[2]->kind, "completed");
  EXPECT_EQ(evs[2]->completed.task_id(), t.id());
  EXPECT_EQ(evs[2]->completed.assignee_id(), owner.id);
  EXPECT_EQ(Micros(evs[2]->completed.completed_at()), Micros(done.task().completed_at()));

  // Unknown task: NOT_FOUND.
  s = env_->Complete(owner.token, events::NewUuid());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
}

// ---- visibility and listing ----------------------------------------------------------

TEST_F(TasksApiTest, AWorkerSeesOnlyTheirOwnTasks) {
  auto created = env_->CreateMany(env_->admin.token, 60, "visible");
  std::map<std::string, std::vector<tasksv1::Task>> by;
  for (const auto& t : created) by[t.assignee_id()].push_back(t);
  const Popug& a = workers_[0];
  const Popug& b = workers_[1];
  ASSERT_FALSE(by[b.id].empty()) << "worker b got none of 60 tasks";
  const auto& btask = by[b.id].front();

  // GetTask of someone else's task: PERMISSION_DENIED, no data.
  for (const Popug* who : Who{&a, accountant_}) {
    tasksv1::GetTaskResponse resp;
    auto s = env_->Get(who->token, btask.id(), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
    EXPECT_FALSE(resp.has_task());
  }
  tasksv1::GetTaskResponse own;
  EXPECT_TRUE(env_->Get(b.token, btask.id(), &own).ok());
  EXPECT_EQ(own.task().id(), btask.id());
  // Admin and manager see any task.
  for (const Popug* who : Who{&env_->admin, manager_}) {
    tasksv1::GetTaskResponse resp;
    ASSERT_TRUE(env_->Get(who->token, btask.id(), &resp).ok()) << who->login;
    EXPECT_EQ(resp.task().assignee_id(), b.id);
  }

  // ListTasks: a worker gets exactly their own tasks, asked for or not.
  auto own_ids = [](const std::string& id) {
    pg::Connection db(env_->tasks_db);
    auto r = db.Exec("SELECT id FROM tasks WHERE assignee_id = $1 ORDER BY id", {pg::Text(id)});
    std::vector<std::string> out;
    for (int i = 0; i < r.Rows(); ++i) out.push_back(r.String(i, 0));
    return out;
  };
  for (const Popug* who : Who{&a, &b, accountant_}) {
    tasksv1::ListTasksRequest req;
    req.set_page_size(5);
    std::vector<std::string> listed;
    for (const auto& t : env_->ListAll(who->token, req)) {
      EXPECT_EQ(t.assignee_id(), who->id) << who->login << " sees " << t.id();
      listed.push_back(t.id());
    }
    EXPECT_EQ(listed, own_ids(who->id)) << who->login;
    req.set_assignee_id(who->id);
    EXPECT_EQ(env_->ListAll(who->token, req).size(), listed.size());
  }
  // Asking for another assignee's tasks: PERMISSION_DENIED, no data.
  {
    tasksv1::ListTasksRequest req;
    req.set_assignee_id(b.id);
    tasksv1::ListTasksResponse resp;
    auto s = env_->List(a.token, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
    EXPECT_EQ(resp.tasks_size(), 0);
  }
  // Admin and manager list anyone's, or everybody's.
  for (const Popug* who : Who{&env_->admin, manager_}) {
    tasksv1::ListTasksRequest req;
    req.set_assignee_id(b.id);
    req.set_page_size(500);
    std::vector<std::string> ids;
    for (const auto& t : env_->ListAll(who->token, req)) ids.push_back(t.id());
    EXPECT_EQ(ids, own_ids(b.id));
    req.clear_assignee_id();
    EXPECT_EQ(static_cast<int64_t>(env_->ListAll(who->token, req).size()), TaskCount());
  }

  // Status filter: b completes one task; b's COMPLETED list holds only completed tasks.
  ASSERT_TRUE(env_->Complete(b.token, btask.id()).ok());
  tasksv1::ListTasksRequest req;
  req.set_status(tasksv1::TASK_STATUS_COMPLETED);
  auto completed = env_->ListAll(b.token, req);
  ASSERT_FALSE(completed.empty());
  bool found = false;
  for (const auto& t : completed) {
    EXPECT_EQ(t.status(), tasksv1::TASK_STATUS_COMPLETED);
    EXPECT_EQ(t.assignee_id(), b.id);
    found |= t.id() == btask.id();
  }
  EXPECT_TRUE(found);
  req.set_status(tasksv1::TASK_STATUS_OPEN);
  for (const auto& t : env_->ListAll(b.token, req)) {
    EXPECT_EQ(t.status(), tasksv1::TASK_STATUS_OPEN);
    EXPECT_NE(t.id(), btask.id());
  }
}

TEST_F(TasksApiTest, ListTasksPagesThroughEveryTaskOnceInBoundedPages) {
  env_->CreateMany(env_->admin.token, 25, "paged");
  int64_t total = TaskCount();
  ASSERT_GE(total, 25);
  tasksv1::ListTasksRequest req;
  req.set_page_size(7);
  std::vector<std::string> ids;
  std::string token;
  int pages = 0;
  for (;;) {
    tasksv1::ListTasksResponse resp;
    req.set_page_token(token);
    auto s = env_->List(manager_->token, req, &resp);
    ASSERT_TRUE(s.ok()) << Describe(s);
    ++pages;
    EXPECT_LE(resp.tasks_size(), 7);
    for (const auto& t : resp.tasks()) ids.push_back(t.id());
    if (resp.next_page_token().empty()) break;
    EXPECT_EQ(resp.tasks_size(), 7) << "a page before the last one is short";
    token = resp.next_page_token();
    ASSERT_LT(pages, 10000);
  }
  EXPECT_EQ(static_cast<int64_t>(ids.size()), total);
  EXPECT_EQ(pages, (total + 6) / 7);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "duplicates";

  // Default page size is 100, the maximum 500.
  tasksv1::ListTasksResponse first;
  ASSERT_TRUE(env_->List(env_->admin.token, tasksv1::ListTasksRequest(), &first).ok());
  EXPECT_EQ(first.tasks_size(), std::min<int64_t>(total, 100));
  EXPECT_EQ(first.next_page_token().empty(), total <= 100);

  // Bad page parameters are refused, naming the field.
  struct Bad {
    const char* field;
    tasksv1::ListTasksRequest req;
  };
  std::vector<Bad> bad(4);
  bad[0].field = "page_size";
  bad[0].req.set_page_size(-1);
  bad[1].field = "page_token";
  bad[1].req.set_page_token("not-a-token");
  bad[2].field = "page_token";  // a bare task id was the old token; tokens are opaque now
  bad[2].req.set_page_token(ids.front());
  bad[3].field = "assignee_id";
  bad[3].req.set_assignee_id("nobody");
  for (const auto& b : bad) {
    tasksv1::ListTasksResponse resp;
    auto s = env_->List(env_->admin.token, b.req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << b.field << Describe(s);
    EXPECT_THAT(BadRequestFields(s), ElementsAre(b.field));
    EXPECT_EQ(resp.tasks_size(), 0);
  }
}

TEST_F(TasksApiTest, ListTasksCapsLargePageSizesAndRefusesATokenUnderAnotherFilter) {
  env_->CreateMany(env_->admin.token, 3, "capped");
  tasksv1::ListTasksRequest huge;
  huge.set_page_size(100000);
  tasksv1::ListTasksResponse resp;
  auto s = env_->List(env_->admin.token, huge, &resp);
  ASSERT_TRUE(s.ok()) << "AIP-158: capped, not refused: " << Describe(s);
  EXPECT_EQ(resp.tasks_size(), std::min<int64_t>(TaskCount(), 500));

  tasksv1::ListTasksRequest open;
  open.set_status(tasksv1::TASK_STATUS_OPEN);
  open.set_page_size(1);
  tasksv1::ListTasksResponse first;
  ASSERT_TRUE(env_->List(manager_->token, open, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  std::vector<tasksv1::ListTasksRequest> others(3);
  others[0].set_status(tasksv1::TASK_STATUS_COMPLETED);
  others[1].set_status(tasksv1::TASK_STATUS_OPEN);
  others[1].set_assignee_id(workers_[0].id);
  // others[2]: no status at all
  for (auto& other : others) {
    other.set_page_token(first.next_page_token());
    tasksv1::ListTasksResponse r;
    s = env_->List(manager_->token, other, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
    EXPECT_THAT(BadRequestFields(s), ElementsAre("page_token"));
    EXPECT_EQ(r.tasks_size(), 0);
  }
  // A manager's token for every assignee is not a worker's token for their own tasks.
  tasksv1::ListTasksRequest all;
  all.set_page_size(1);
  tasksv1::ListTasksResponse any;
  ASSERT_TRUE(env_->List(manager_->token, all, &any).ok());
  ASSERT_FALSE(any.next_page_token().empty());
  all.set_page_token(any.next_page_token());
  s = env_->List(workers_[0].token, all, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  // The same filter goes on.
  open.set_page_token(first.next_page_token());
  s = env_->List(manager_->token, open, &resp);
  EXPECT_TRUE(s.ok()) << Describe(s);
}

TEST_F(TasksApiTest, TasksShowTheAssigneesLoginAndName) {
  tasksv1::Task created;
  auto s = env_->Create(manager_->token, "Named task", &created);
  ASSERT_TRUE(s.ok()) << Describe(s);
  auto owner = env_->Find(created.assignee_id());
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(created.assignee_login(), owner->login);
  EXPECT_EQ(created.assignee_name(), "Popug " + owner->login);

  tasksv1::GetTaskResponse got;
  Call c(manager_->token);
  tasksv1::GetTaskRequest get;
  get.set_task_id(created.id());
  ASSERT_TRUE(env_->stub->GetTask(&c.ctx, get, &got).ok());
  EXPECT_EQ(got.task().assignee_login(), owner->login);
  EXPECT_EQ(got.task().assignee_name(), "Popug " + owner->login);

  tasksv1::ListTasksRequest mine;
  mine.set_assignee_id(owner->id);
  auto listed = env_->ListAll(manager_->token, mine);
  ASSERT_FALSE(listed.empty());
  for (const auto& t : listed) {
    EXPECT_EQ(t.assignee_login(), owner->login) << t.id();
    EXPECT_EQ(t.assignee_name(), "Popug " + owner->login) << t.id();
  }
}

// ---- idempotency ---------------------------------------------------------------------

TEST_F(TasksApiTest, RequestIdMakesCreateIdempotentPerCaller) {
  uint64_t seq0 = env_->Quiesce();
  int64_t n0 = TaskCount();
  const Popug& w = workers_[2];
  tasksv1::Task first, again;
  ASSERT_TRUE(env_->Create(w.token, "Once only", &first, "UP-7", "d", "idem-1").ok());
  auto s = env_->Create(w.token, "Once only", &again, "UP-7", "d", "idem-1");
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString()) << "a different task came back";

  // The same key with different content: ALREADY_EXISTS, nothing written.
  struct Variant {
    const char* what;
    std::string title, jira, desc;
  };
  for (const auto& v :
       {Variant{"title", "Once only!", "UP-7", "d"}, Variant{"jira_id", "Once only", "UP-8", "d"},
        Variant{"description", "Once only", "UP-7", "e"}}) {
    tasksv1::Task t;
    s = env_->Create(w.token, v.title, &t, v.jira, v.desc, "idem-1");
    EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << v.what << ": " << Describe(s);
    EXPECT_TRUE(t.id().empty());
  }
  // The key is per caller: another account with the same key gets its own task.
  tasksv1::Task theirs;
  ASSERT_TRUE(env_->Create(accountant_->token, "Once only", &theirs, "UP-7", "d", "idem-1").ok());
  EXPECT_NE(theirs.id(), first.id());

  // Many concurrent first attempts with one key: one task, all get it.
  std::vector<tasksv1::Task> got(8);
  std::vector<grpc::Status> st(8);
  std::vector<std::thread> th;
  for (int i = 0; i < 8; ++i) {
    th.emplace_back(
        [&, i] { st[i] = env_->Create(w.token, "Raced", &got[i], "", "", "idem-race"); });
  }
  for (auto& t : th) t.join();
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(st[i].ok()) << i << ": " << Describe(st[i]);
    EXPECT_EQ(got[i].id(), got[0].id()) << "concurrent retries made two tasks";
  }
  EXPECT_EQ(TaskCount(), n0 + 3);
  EXPECT_EQ(env_->Q("SELECT count(*) FROM tasks WHERE created_by = $1 AND request_id = 'idem-1'",
                    {pg::Text(w.id)}),
            1);
  // Two events per task, nothing for the replays or refusals.
  uint64_t seq1 = env_->Quiesce();
  EXPECT_EQ(seq1, seq0 + 6);
  for (const auto& id : {first.id(), theirs.id(), got[0].id()}) {
    EXPECT_EQ(env_->EventsOf(id).size(), 2u) << id;
  }
}

// Concurrent creates share transactions (group commit): each caller still gets
// its own task, stored as returned, with exactly its two events, and a replayed
// key inside a shared batch is answered with the first task only.
TEST_F(TasksApiTest, ConcurrentCreatesEachGetTheirOwnTaskAndEvents) {
  uint64_t seq0 = env_->Quiesce();
  int64_t n0 = TaskCount();
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::vector<tasksv1::Task>> got(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> th;
  for (int k = 0; k < kThreads; ++k) {
    th.emplace_back([&, k] {
      const Popug& caller = k % 2 ? workers_[k % 3] : *manager_;
      for (int i = 0; i < kEach; ++i) {
        tasksv1::Task t;
        std::string key = "batch-" + std::to_string(k) + "-" + std::to_string(i);
        auto st = env_->Create(caller.token, "Batched " + key, &t, "", "", key);
        // Every third call is sent twice: the replay must get the same task.
        tasksv1::Task again;
        auto st2 = i % 3 ? st : env_->Create(caller.token, "Batched " + key, &again, "", "", key);
        if (!st.ok() || !st2.ok()) {
          errors[k] = Describe(st.ok() ? st2 : st);
          return;
        }
        if (i % 3 == 0 && again.id() != t.id()) {
          errors[k] = "replay of " + key + " made a second task";
          return;
        }
        got[k].push_back(t);
      }
    });
  }
  for (auto& t : th) t.join();
  for (int k = 0; k < kThreads; ++k) ASSERT_EQ(errors[k], "") << "caller " << k;

  EXPECT_EQ(TaskCount(), n0 + kThreads * kEach);
  uint64_t seq1 = env_->Quiesce();
  EXPECT_EQ(seq1, seq0 + 2 * kThreads * kEach);
  std::set<std::string> ids;
  for (const auto& mine : got) {
    for (const auto& t : mine) {
      EXPECT_TRUE(ids.insert(t.id()).second) << "two callers got task " << t.id();
      tasksv1::GetTaskResponse stored;
      ASSERT_TRUE(env_->Get(env_->admin.token, t.id(), &stored).ok()) << t.id();
      EXPECT_EQ(stored.task().SerializeAsString(), t.SerializeAsString()) << t.id();
      auto evs = env_->EventsOf(t.id());
      ASSERT_EQ(evs.size(), 2u) << t.id();
      EXPECT_EQ(evs[0]->kind, "created");
      EXPECT_EQ(evs[0]->created.title(), t.title());
      EXPECT_EQ(evs[1]->kind, "assigned");
      EXPECT_EQ(evs[1]->assigned.assignee_id(), t.assignee_id());
    }
  }
}

// ---- validation ----------------------------------------------------------------------

TEST_F(TasksApiTest, BadInputIsInvalidArgumentNamingTheFieldAndChangesNothing) {
  auto victim = env_->MustCreate(env_->admin.token, "Leave me alone");
  uint64_t seq0 = env_->Quiesce();
  int64_t n0 = TaskCount();
  struct Case {
    const char* what;
    const char* field;
    std::string title, jira, desc, request_id;
  };
  std::vector<Case> cases = {
      {"bracket title", "title", "[UP-1] Fix it", "", "", ""},
      {"closing bracket", "title", "Fix it]", "", "", ""},
      {"empty title", "title", "", "", "", ""},
      {"blank title", "title", "   ", "", "", ""},
      {"long title", "title", std::string(201, 't'), "", "", ""},
      {"control character", "title", "two\nlines", "", "", ""},
      {"lower-case jira_id", "jira_id", "Fine", "up-1", "", ""},
      {"jira_id without number", "jira_id", "Fine", "UP", "", ""},
      {"jira_id in brackets", "jira_id", "Fine", "[UP-1]", "", ""},
      {"long description", "description", "Fine", "", std::string(10001, 'd'), ""},
      {"long request_id", "request_id", "Fine", "", "", std::string(129, 'r')},
  };
  for (const auto& c : cases) {
    tasksv1::Task t;
    // With a request_id (where valid), so a refused call cannot burn or claim the key.
    auto s = env_->Create(workers_[0].token, c.title, &t, c.jira, c.desc,
                          c.request_id.empty() ? std::string("bad-") + c.what : c.request_id);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what << ": " << Describe(s);
    EXPECT_THAT(BadRequestFields(s), ElementsAre(c.field)) << c.what;
    EXPECT_TRUE(t.id().empty()) << c.what;
  }
  // Malformed task ids.
  for (const std::string& id : {std::string("not-a-uuid"), std::string(""), victim.id() + "0",
                                std::string("'; DROP TABLE tasks; --")}) {
    tasksv1::GetTaskResponse got;
    auto s = env_->Get(env_->admin.token, id, &got);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << id << Describe(s);
    EXPECT_THAT(BadRequestFields(s), ElementsAre("task_id")) << id;
    s = env_->Complete(Owner(victim).token, id);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << id << Describe(s);
    EXPECT_THAT(BadRequestFields(s), ElementsAre("task_id")) << id;
  }
  // Several bad fields at once are all named.
  tasksv1::Task t;
  auto s = env_->Create(workers_[0].token, "[x]", &t, "bad", std::string(10001, 'd'));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadRequestFields(s),
              ::testing::UnorderedElementsAre("title", "jira_id", "description"));

  // Nothing was written: no task, no event, the keys are still free.
  EXPECT_EQ(TaskCount(), n0);
  EXPECT_EQ(env_->Quiesce(), seq0);
  EXPECT_EQ(env_->Q("SELECT count(*) FROM tasks WHERE request_id LIKE 'bad-%'"), 0);
  tasksv1::GetTaskResponse got;
  ASSERT_TRUE(env_->Get(env_->admin.token, victim.id(), &got).ok());
  EXPECT_EQ(got.task().status(), tasksv1::TASK_STATUS_OPEN);
  EXPECT_EQ(got.task().version(), 1);
  // A title with a non-ASCII text within the limit is fine (200 characters, 400 bytes).
  std::string cyr;
  for (int i = 0; i < 200; ++i) cyr += "\xd0\x96";
  tasksv1::Task ok;
  s = env_->Create(workers_[0].token, cyr, &ok);
  EXPECT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(ok.title(), cyr);
}

// ---- shuffle -----------------------------------------------------------------------

TEST_F(TasksApiTest, OnlyAdminAndManagerShuffle) {
  env_->MustCreate(env_->admin.token, "Shuffle fodder");
  uint64_t seq0 = env_->Quiesce();
  int64_t versions = env_->Q("SELECT sum(version) FROM tasks");
  for (const Popug* who : Who{&workers_[0], accountant_}) {
    int64_t count = -1;
    auto s = env_->Shuffle(who->token, &count);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << who->login << Describe(s);
  }
  EXPECT_EQ(env_->Shuffle("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(env_->Q("SELECT sum(version) FROM tasks"), versions);
  EXPECT_EQ(env_->Quiesce(), seq0);
  for (const Popug* who : Who{&env_->admin, manager_}) {
    int64_t count = -1;
    auto s = env_->Shuffle(who->token, &count);
    EXPECT_TRUE(s.ok()) << who->login << Describe(s);
    EXPECT_EQ(count, env_->Q("SELECT count(*) FROM tasks WHERE status = 'open'"));
  }
}

TEST_F(TasksApiTest, ShuffleGivesEveryOpenTaskOneAssignedEventBuiltExactly) {
  auto fresh = env_->CreateMany(env_->admin.token, 40, "shuffled");
  // Some completed tasks that the shuffle must leave alone.
  std::set<std::string> completed;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(env_->Complete(Owner(fresh[i]).token, fresh[i].id()).ok());
    completed.insert(fresh[i].id());
  }
  std::map<std::string, tasksv1::Task> before;
  tasksv1::ListTasksRequest all;
  all.set_page_size(500);
  for (const auto& t : env_->ListAll(env_->admin.token, all)) before[t.id()] = t;
  int64_t open = 0;
  for (const auto& [id, t] : before) open += t.status() == tasksv1::TASK_STATUS_OPEN;
  uint64_t seq0 = env_->Quiesce();

  int64_t t0 = NowMicros();
  int64_t count = -1;
  auto s = env_->Shuffle(manager_->token, &count);
  ASSERT_TRUE(s.ok()) << Describe(s);
  int64_t t1 = NowMicros();
  EXPECT_EQ(count, open) << "the count is the number of open tasks";

  std::map<std::string, tasksv1::Task> after;
  for (const auto& t : env_->ListAll(env_->admin.token, all)) after[t.id()] = t;
  ASSERT_EQ(after.size(), before.size());
  auto allowed = env_->AssignableIds();
  for (const auto& [id, b] : before) {
    const auto& a = after[id];
    if (b.status() == tasksv1::TASK_STATUS_OPEN) {
      EXPECT_EQ(a.version(), b.version() + 1) << id;
      EXPECT_TRUE(allowed.count(a.assignee_id())) << id << " -> " << a.assignee_id();
    } else {
      EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString()) << "completed task changed: " << id;
    }
  }

  env_->Quiesce();
  std::vector<const TaskEvent*> shuffle_events;
  for (const auto& e : env_->Events()) {
    if (e.msg.seq > seq0) shuffle_events.push_back(&e);
  }
  ASSERT_EQ(static_cast<int64_t>(shuffle_events.size()), count);
  std::set<std::string> seen_tasks, msg_ids;
  std::string correlation = shuffle_events.front()->msg.Header(events::kHeaderCorrelationId);
  EXPECT_TRUE(events::IsUuid(correlation)) << correlation;
  int64_t assigned_at = -1;
  for (const auto* e : shuffle_events) {
    const auto& m = e->msg;
    ASSERT_EQ(e->kind, "assigned") << m.subject << " v" << m.Header(events::kHeaderVersion);
    EXPECT_EQ(m.Header(events::kHeaderName), "tasks.task.assigned");
    EXPECT_EQ(m.Header(events::kHeaderVersion), "1");
    EXPECT_EQ(m.Header(events::kHeaderProducer), "ates-tasks");
    EXPECT_EQ(m.Header(events::kHeaderCorrelationId), correlation) << "one correlation per shuffle";
    EXPECT_TRUE(events::IsUuid(m.Header(events::kHeaderMsgId)));
    EXPECT_TRUE(msg_ids.insert(m.Header(events::kHeaderMsgId)).second);
    // The body was built in SQL: it must be exactly what protobuf would encode.
    tev1::TaskAssigned body;
    ASSERT_TRUE(body.ParseFromString(m.data));
    EXPECT_TRUE(body.GetReflection()->GetUnknownFields(body).empty());
    EXPECT_EQ(body.SerializeAsString(), m.data) << "non-canonical encoding";
    const std::string& id = body.task_id();
    ASSERT_TRUE(before.count(id)) << "event for unknown task " << id;
    EXPECT_TRUE(seen_tasks.insert(id).second) << "two events for " << id;
    EXPECT_EQ(before[id].status(), tasksv1::TASK_STATUS_OPEN) << "completed task reassigned";
    EXPECT_EQ(body.previous_assignee_id(), before[id].assignee_id()) << id;
    EXPECT_EQ(body.assignee_id(), after[id].assignee_id()) << id;
    ASSERT_TRUE(body.has_assigned_at());
    int64_t at = Micros(body.assigned_at());
    EXPECT_EQ(body.assigned_at().nanos() % 1000, 0);
    EXPECT_GE(at, t0);
    EXPECT_LE(at, t1);
    if (assigned_at < 0) assigned_at = at;
    EXPECT_EQ(at, assigned_at) << "one shuffle, one time";
  }
  EXPECT_EQ(static_cast<int64_t>(seen_tasks.size()), open);
  for (const auto& id : completed) EXPECT_FALSE(seen_tasks.count(id));
  // assigned_at is the time stored on the rows.
  EXPECT_EQ(env_->Q("SELECT count(*) FROM tasks WHERE status = 'open' AND"
                    " (extract(epoch FROM updated_at) * 1000000)::bigint <> $1",
                    {pg::Int(assigned_at)}),
            0);
}

TEST_F(TasksApiTest, ShuffleRacingCompletionsLosesNoCompletionAndReassignsNoCompletedTask) {
  constexpr int kTasks = 300;
  auto created = env_->CreateMany(env_->admin.token, kTasks, "race");
  std::map<std::string, std::vector<std::string>> by_owner;
  std::set<std::string> mine;
  for (const auto& t : created) {
    by_owner[t.assignee_id()].push_back(t.id());
    mine.insert(t.id());
  }
  ASSERT_EQ(mine.size(), static_cast<size_t>(kTasks));
  uint64_t seq0 = env_->Quiesce();

  std::mutex mu;
  std::map<std::string, std::string> completed_by;  // task -> who completed it
  std::vector<std::string> problems;
  std::atomic<int> attempts{0}, denied{0};
  std::atomic<bool> go{false}, done{false};
  std::vector<int64_t> shuffle_counts;

  auto complete = [&](const Popug& p, const std::string& id) {
    tasksv1::CompleteTaskResponse r;
    auto s = env_->Complete(p.token, id, &r);
    ++attempts;
    std::lock_guard lock(mu);
    if (s.ok()) {
      if (r.task().status() != tasksv1::TASK_STATUS_COMPLETED || r.task().assignee_id() != p.id) {
        problems.push_back("completion of " + id + " returned " + r.task().ShortDebugString());
      }
      auto [it, fresh] = completed_by.emplace(id, p.id);
      if (!fresh && it->second != p.id) problems.push_back("completed twice: " + id);
    } else if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      ++denied;  // reassigned away by a shuffle first: fine
    } else {
      problems.push_back("complete " + id + ": " + Describe(s));
    }
  };
  std::vector<std::pair<Popug, std::vector<std::string>>> owners;
  for (const auto& [owner_id, ids] : by_owner) {
    auto owner = env_->Find(owner_id);
    ASSERT_TRUE(owner.has_value()) << owner_id;
    owners.emplace_back(*owner, ids);
  }
  std::vector<std::thread> threads;
  for (const auto& [owner, owned] : owners) {
    threads.emplace_back([&, p = owner, ids = owned] {
      while (!go) std::this_thread::yield();
      for (const auto& id : ids) complete(p, id);  // pass 1: what was assigned at creation
      tasksv1::ListTasksRequest req;               // pass 2: what shuffles gave them since
      req.set_status(tasksv1::TASK_STATUS_OPEN);
      req.set_page_size(500);
      for (const auto& t : env_->ListAll(p.token, req)) {
        if (mine.count(t.id())) complete(p, t.id());
      }
    });
  }
  // Shuffles interleaved with the completions: one about every 30 attempts.
  std::thread shuffler([&] {
    while (!go) std::this_thread::yield();
    int next = 0;
    while (!done) {
      if (attempts < next) {
        std::this_thread::yield();
        continue;
      }
      int64_t count = -1;
      auto s = env_->Shuffle(manager_->token, &count);
      std::lock_guard lock(mu);
      if (!s.ok()) problems.push_back("shuffle: " + Describe(s));
      shuffle_counts.push_back(count);
      next = attempts + 30;
    }
  });
  go = true;
  for (size_t i = 0; i < threads.size(); ++i) threads[i].join();
  done = true;
  shuffler.join();
  EXPECT_THAT(problems, IsEmpty());
  std::cout << "[race] " << completed_by.size() << " completed, " << denied.load() << " denied, "
            << shuffle_counts.size() << " shuffles\n";
  ASSERT_GE(shuffle_counts.size(), 2u);
  ASSERT_GT(completed_by.size(), 0u);

  // 1. Every completion that succeeded stuck, with its completer as assignee;
  //    no task is completed that no call completed.
  std::map<std::string, tasksv1::Task> final_state;
  tasksv1::ListTasksRequest all;
  all.set_page_size(500);
  for (const auto& t : env_->ListAll(env_->admin.token, all)) {
    if (mine.count(t.id())) final_state[t.id()] = t;
  }
  ASSERT_EQ(final_state.size(), mine.size());
  int completed_count = 0;
  for (const auto& [id, t] : final_state) {
    auto it = completed_by.find(id);
    if (it != completed_by.end()) {
      EXPECT_EQ(t.status(), tasksv1::TASK_STATUS_COMPLETED) << "lost completion of " << id;
      EXPECT_EQ(t.assignee_id(), it->second) << "completed task reassigned: " << id;
    } else {
      EXPECT_EQ(t.status(), tasksv1::TASK_STATUS_OPEN) << id << " completed by nobody";
    }
    completed_count += t.status() == tasksv1::TASK_STATUS_COMPLETED;
  }
  EXPECT_EQ(completed_count, static_cast<int>(completed_by.size()));

  // 2. The events tell the same story: per task, no assignment after its
  //    completion, each assignment continues the one before, and the counts match.
  env_->Quiesce();
  auto by_task = env_->EventsByTask();
  int completed_events = 0;
  for (const auto& id : mine) {
    const auto& evs = by_task[id];
    ASSERT_GE(evs.size(), 2u) << id;
    std::string assignee;
    bool is_completed = false;
    int64_t changes = 0;
    for (size_t i = 0; i < evs.size(); ++i) {
      const auto* e = evs[i];
      if (e->kind == "created") {
        EXPECT_EQ(i, 0u) << id;
        assignee = e->created.assignee_id();
      } else if (e->kind == "assigned") {
        EXPECT_FALSE(is_completed) << "assigned after completion: " << id << " seq " << e->msg.seq;
        EXPECT_EQ(e->assigned.previous_assignee_id(), i == 1 ? "" : assignee) << id;
        if (i > 1) ++changes;
        assignee = e->assigned.assignee_id();
      } else if (e->kind == "completed") {
        EXPECT_FALSE(is_completed) << "completed twice: " << id;
        is_completed = true;
        ++changes;
        ++completed_events;
        EXPECT_EQ(e->completed.assignee_id(), assignee) << id;
        EXPECT_EQ(e->completed.assignee_id(), completed_by[id]) << id;
      } else {
        ADD_FAILURE() << "undecodable event at seq " << e->msg.seq;
      }
    }
    EXPECT_EQ(assignee, final_state[id].assignee_id()) << id;
    EXPECT_EQ(final_state[id].version(), 1 + changes) << "a change without an event: " << id;
  }
  EXPECT_EQ(completed_events, static_cast<int>(completed_by.size()));

  // 3. Each shuffle wrote as many events as it reported, all with its correlation id.
  std::map<std::string, int64_t> per_shuffle;
  for (const auto& e : env_->Events()) {
    if (e.msg.seq > seq0 && e.kind == "assigned" && !e.assigned.previous_assignee_id().empty()) {
      ++per_shuffle[e.msg.Header(events::kHeaderCorrelationId)];
    }
  }
  std::multiset<int64_t> reported(shuffle_counts.begin(), shuffle_counts.end());
  reported.erase(0);  // a shuffle of nothing writes nothing
  std::multiset<int64_t> written;
  for (const auto& [corr, n] : per_shuffle) written.insert(n);
  EXPECT_EQ(written, reported);
}

// ---- events ------------------------------------------------------------------------

TEST_F(TasksApiTest, EveryStateChangeHasExactlyOneEventInOrderPerTask) {
  // Some activity of its own (create, shuffle, complete), then the whole stream.
  auto created = env_->CreateMany(env_->admin.token, 20, "evented");
  ASSERT_TRUE(env_->Shuffle(env_->admin.token).ok());
  for (int i = 0; i < 10; ++i) {
    tasksv1::GetTaskResponse got;
    ASSERT_TRUE(env_->Get(env_->admin.token, created[i].id(), &got).ok());
    auto s = env_->Complete(Owner(got.task()).token, created[i].id());
    ASSERT_TRUE(s.ok()) << Describe(s);
  }
  env_->Quiesce();

  // The created event of a task made here carries its full state (v2).
  auto evs = env_->EventsOf(created[15].id());
  ASSERT_GE(evs.size(), 2u);
  ASSERT_EQ(evs[0]->kind, "created");
  const auto& c = evs[0]->created;
  EXPECT_EQ(c.task_id(), created[15].id());
  EXPECT_EQ(c.title(), created[15].title());
  EXPECT_EQ(c.jira_id(), created[15].jira_id());
  EXPECT_EQ(c.description(), created[15].description());
  EXPECT_EQ(c.created_by(), env_->admin.id);
  EXPECT_EQ(c.assignee_id(), created[15].assignee_id());
  EXPECT_EQ(c.version(), 1);
  EXPECT_EQ(Micros(c.created_at()), Micros(created[15].created_at()));

  // Every task in the database, whatever test made it.
  std::map<std::string, tasksv1::Task> tasks;
  tasksv1::ListTasksRequest all;
  all.set_page_size(500);
  for (const auto& t : env_->ListAll(env_->admin.token, all)) tasks[t.id()] = t;
  ASSERT_EQ(static_cast<int64_t>(tasks.size()), TaskCount());

  std::set<std::string> msg_ids;
  for (const auto& e : env_->Events()) {
    const auto& m = e.msg;
    EXPECT_NE(e.kind, "?") << "undecodable " << m.subject << " at seq " << m.seq;
    EXPECT_TRUE(tasks.count(e.task_id)) << "event about a task that is not stored: seq " << m.seq;
    EXPECT_TRUE(events::IsUuid(m.Header(events::kHeaderMsgId))) << m.seq;
    EXPECT_TRUE(msg_ids.insert(m.Header(events::kHeaderMsgId)).second)
        << "Nats-Msg-Id twice: " << m.Header(events::kHeaderMsgId);
    EXPECT_EQ(m.Header(events::kHeaderName), m.subject) << m.seq;
    EXPECT_EQ(m.Header(events::kHeaderVersion), m.subject == "tasks.task.created" ? "2" : "1");
    EXPECT_EQ(m.Header(events::kHeaderProducer), "ates-tasks");
    EXPECT_FALSE(m.Header(events::kHeaderOccurredAt).empty());
    EXPECT_FALSE(m.Header(events::kHeaderCorrelationId).empty());
  }

  auto by_task = env_->EventsByTask();
  for (const auto& [id, t] : tasks) {
    const auto& evs = by_task[id];
    ASSERT_GE(evs.size(), 2u) << id << " has " << evs.size() << " events";
    // created v2, then the first assignment caused by it ...
    ASSERT_EQ(evs[0]->kind, "created") << id;
    ASSERT_EQ(evs[1]->kind, "assigned") << id;
    EXPECT_EQ(evs[1]->assigned.assignee_id(), evs[0]->created.assignee_id()) << id;
    EXPECT_EQ(evs[1]->assigned.previous_assignee_id(), "") << id;
    EXPECT_EQ(evs[1]->msg.Header(events::kHeaderCausationId),
              evs[0]->msg.Header(events::kHeaderMsgId));
    EXPECT_EQ(evs[1]->msg.Header(events::kHeaderCorrelationId),
              evs[0]->msg.Header(events::kHeaderMsgId));
    // ... then reassignments, each continuing the one before, then at most one completion, last.
    std::string assignee = evs[1]->assigned.assignee_id();
    for (size_t i = 2; i < evs.size(); ++i) {
      if (evs[i]->kind == "assigned") {
        EXPECT_EQ(evs[i]->assigned.previous_assignee_id(), assignee) << id;
        assignee = evs[i]->assigned.assignee_id();
      } else {
        ASSERT_EQ(evs[i]->kind, "completed") << id;
        EXPECT_EQ(i, evs.size() - 1) << "an event after completion: " << id;
        EXPECT_EQ(evs[i]->completed.assignee_id(), assignee) << id;
      }
    }
    EXPECT_EQ(assignee, t.assignee_id()) << id;
    EXPECT_EQ(evs.back()->kind == "completed", t.status() == tasksv1::TASK_STATUS_COMPLETED) << id;
    // One event per state change: version counts the changes after creation.
    EXPECT_EQ(static_cast<int64_t>(evs.size()), t.version() + 1) << id;
  }
}

}  // namespace
}  // namespace ates::test
