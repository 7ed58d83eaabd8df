#pragma once
// Helpers for the ates-tasks integration tests: a real ates-auth and a real
// ates-tasks on the stack's PostgreSQL and NATS, accounts with tokens, the
// TaskService calls, the TASKS stream decoded per task, and chi-square.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ates/events/tasks/v1/task_events.pb.h"
#include "ates/events/tasks/v2/task_events.pb.h"
#include "ates/platform/events.hpp"
#include "ates/tasks/v1/task_service.grpc.pb.h"
#include "support/auth_helpers.hpp"
#include "support/stats.hpp"
#include "support/wait.hpp"

#ifndef ATES_TASKS_BIN
#error "ATES_TASKS_BIN must be defined by the build"
#endif

namespace ates::test {

namespace tasksv1 = ::ates::tasks::v1;
namespace tev1 = ::ates::events::tasks::v1;
namespace tev2 = ::ates::events::tasks::v2;
using ::ates::common::v1::ROLE_ACCOUNTANT;
using ::ates::common::v1::ROLE_ADMIN;
using ::ates::common::v1::ROLE_MANAGER;
using ::ates::common::v1::ROLE_WORKER;

// ---- daemons -------------------------------------------------------------------

inline DaemonOptions TasksDaemon(const std::string& name, const std::string& database_url,
                                 const std::string& auth_target, const std::string& durable,
                                 std::map<std::string, std::string> env = {}) {
  return SystemDaemon(name, "ates-tasks", ATES_TASKS_BIN, database_url,
                      {{"ATES_AUTH_KEYS_URL", auth_target},
                       // A fresh durable: this daemon replays the whole ACCOUNTS stream.
                       {"ATES_CONSUMERS_ACCOUNTS_DURABLE", durable},
                       {"ATES_DATABASE_POOL_SIZE", "8"},
                       // Business limits off: the suites create and shuffle as fast
                       // as they can. tasks_limits_test turns them on.
                       {"ATES_TASKS_CREATE_PER_MINUTE", "0"},
                       {"ATES_TASKS_SHUFFLE_COOLDOWN", "0s"}},
                      env);
}

// One account of the system, with a token to act as it.
struct Popug {
  std::string id;
  std::string login;
  std::string token;
  Role role = ROLE_WORKER;
  bool active = true;
  int64_t version = 1;
};

inline bool Assignable(const Popug& p) {
  return p.active && (p.role == ROLE_WORKER || p.role == ROLE_ACCOUNTANT);
}

// A decoded message of the TASKS stream.
struct TaskEvent {
  StreamMessage msg;
  std::string task_id;
  std::string kind;  // "created", "assigned", "completed" or "?"
  tev2::TaskCreated created;
  tev1::TaskAssigned assigned;
  tev1::TaskCompleted completed;
};

inline int64_t Micros(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000000 + ts.nanos() / 1000;
}

inline TaskEvent DecodeTaskEvent(const StreamMessage& m) {
  TaskEvent e;
  e.msg = m;
  std::string version = m.Header(events::kHeaderVersion);
  if (m.subject == "tasks.task.created" && version == "2" && e.created.ParseFromString(m.data)) {
    e.kind = "created";
    e.task_id = e.created.task_id();
  } else if (m.subject == "tasks.task.assigned" && version == "1" &&
             e.assigned.ParseFromString(m.data)) {
    e.kind = "assigned";
    e.task_id = e.assigned.task_id();
  } else if (m.subject == "tasks.task.completed" && version == "1" &&
             e.completed.ParseFromString(m.data)) {
    e.kind = "completed";
    e.task_id = e.completed.task_id();
  } else {
    e.kind = "?";
  }
  return e;
}

// ates-auth + ates-tasks with fresh databases, the bootstrap admin, and every
// account made through it (with tokens).
class TasksEnv {
 public:
  // `route` gives the URL ates-tasks uses for its database (e.g. through a
  // proxy); the test itself always reads `tasks_db` directly.
  explicit TasksEnv(const std::string& name, std::map<std::string, std::string> tasks_env = {},
                    const std::function<std::string(const std::string&)>& route = {}) {
    auto& stack = TestStack::Get();
    auth_db = stack.CreateDatabase(name + "_auth");
    tasks_db = stack.CreateDatabase(name + "_tasks");
    auth = std::make_unique<Daemon>(AuthDaemon(name + "-auth", auth_db));
    auth->Start();
    auth_stub = authv1::AuthService::NewStub(auth->channel());
    tasks = std::make_unique<Daemon>(TasksDaemon(name + "-tasks",
                                                 route ? route(tasks_db) : tasks_db, auth->target(),
                                                 "tasks_accounts_" + name, std::move(tasks_env)));
    tasks->Start();
    stub = tasksv1::TaskService::NewStub(tasks->channel());
    js = std::make_unique<JsClient>(stack.nats_url());
    authv1::LoginResponse resp;
    auto s = Login(kAdminLogin, kAdminPassword, &resp);
    if (!s.ok()) throw std::runtime_error("admin login: " + Describe(s));
    admin.id = resp.account().id();
    admin.login = kAdminLogin;
    admin.token = resp.access_token();
    admin.role = ROLE_ADMIN;
    admin.version = resp.account().version();
    Remember(admin);
    AwaitReplica(admin);
  }

  ~TasksEnv() {
    stub.reset();
    auth_stub.reset();
    if (tasks && tasks->Running()) tasks->Stop();
    if (auth && auth->Running()) auth->Stop();
  }

  grpc::Status Login(const std::string& login, const std::string& password,
                     authv1::LoginResponse* resp) {
    Call c;
    authv1::LoginRequest req;
    req.set_login(login);
    req.set_password(password);
    return auth_stub->Login(&c.ctx, req, resp);
  }

  // Creates an account through ates-auth, logs it in, and waits until the
  // tasks replica knows it.
  Popug NewAccount(const std::string& login, Role role, bool await_replica = true) {
    Popug p;
    {
      Call c(admin.token);
      authv1::CreateAccountResponse resp;
      auto s = auth_stub->CreateAccount(&c.ctx, NewAccountRequest(login, role), &resp);
      if (!s.ok()) throw std::runtime_error("create account " + login + ": " + Describe(s));
      p.id = resp.account().id();
      p.version = resp.account().version();
    }
    authv1::LoginResponse lr;
    auto s = Login(login, "popug-pass-1", &lr);
    if (!s.ok()) throw std::runtime_error("login " + login + ": " + Describe(s));
    p.login = login;
    p.token = lr.access_token();
    p.role = role;
    Remember(p);
    if (await_replica) AwaitReplica(p);
    return p;
  }

  // Changes role and/or active flag through ates-auth; waits for the replica.
  Popug Update(Popug p, std::optional<Role> role, std::optional<bool> active) {
    Call c(admin.token);
    authv1::UpdateAccountRequest req;
    req.set_account_id(p.id);
    if (role) req.set_role(*role);
    if (active) req.set_active(*active);
    authv1::UpdateAccountResponse resp;
    auto s = auth_stub->UpdateAccount(&c.ctx, req, &resp);
    if (!s.ok()) throw std::runtime_error("update account " + p.login + ": " + Describe(s));
    p.role = resp.account().role();
    p.active = resp.account().active();
    p.version = resp.account().version();
    Remember(p);
    AwaitReplica(p);
    return p;
  }

  // Waits until accounts_replica in the tasks database has this version of the account.
  void AwaitReplica(const Popug& p) {
    pg::Connection db(tasks_db);
    bool ok = Eventually(
        [&] {
          auto r = db.Exec(
              "SELECT count(*) FROM accounts_replica WHERE id = $1 AND version >= $2"
              " AND active = $3",
              {pg::Text(p.id), pg::Int(p.version), pg::Text(p.active ? "t" : "f")});
          return r.Int(0, 0) == 1;
        },
        30s);
    if (!ok) throw std::runtime_error("tasks replica never got " + p.login);
  }

  void Remember(const Popug& p) {
    std::lock_guard lock(mu_);
    popugs_[p.id] = p;
  }
  std::map<std::string, Popug> Popugs() {
    std::lock_guard lock(mu_);
    return popugs_;
  }
  std::optional<Popug> Find(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = popugs_.find(id);
    if (it == popugs_.end()) return std::nullopt;
    return it->second;
  }
  std::set<std::string> AssignableIds() {
    std::set<std::string> ids;
    for (const auto& [id, p] : Popugs()) {
      if (Assignable(p)) ids.insert(id);
    }
    return ids;
  }

  // ---- TaskService --------------------------------------------------------------

  grpc::Status Create(const std::string& token, const std::string& title,
                      tasksv1::Task* out = nullptr, const std::string& jira_id = "",
                      const std::string& description = "", const std::string& request_id = "") {
    Call c(token);
    tasksv1::CreateTaskRequest req;
    req.set_title(title);
    req.set_jira_id(jira_id);
    req.set_description(description);
    req.set_request_id(request_id);
    tasksv1::CreateTaskResponse resp;
    auto s = stub->CreateTask(&c.ctx, req, &resp);
    if (out) *out = resp.task();
    return s;
  }

  // Creates a task that must succeed.
  tasksv1::Task MustCreate(const std::string& token, const std::string& title) {
    tasksv1::Task t;
    auto s = Create(token, title, &t);
    EXPECT_TRUE(s.ok()) << title << ": " << Describe(s);
    return t;
  }

  // Creates `n` tasks with `threads` concurrent clients; returns them in no particular order.
  std::vector<tasksv1::Task> CreateMany(const std::string& token, int n, const std::string& prefix,
                                        int threads = 8) {
    std::vector<tasksv1::Task> all(n);
    std::atomic<int> next{0};
    std::atomic<int> failures{0};
    std::string first_error;
    std::mutex err_mu;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (int i = next++; i < n; i = next++) {
          auto s = Create(token, prefix + " " + std::to_string(i), &all[i]);
          if (!s.ok()) {
            ++failures;
            std::lock_guard lock(err_mu);
            if (first_error.empty()) first_error = Describe(s);
          }
        }
      });
    }
    for (auto& th : pool) th.join();
    EXPECT_EQ(failures.load(), 0) << "first error: " << first_error;
    return all;
  }

  grpc::Status Get(const std::string& token, const std::string& id, tasksv1::GetTaskResponse* out) {
    Call c(token);
    tasksv1::GetTaskRequest req;
    req.set_task_id(id);
    return stub->GetTask(&c.ctx, req, out);
  }

  grpc::Status List(const std::string& token, const tasksv1::ListTasksRequest& req,
                    tasksv1::ListTasksResponse* out) {
    Call c(token);
    return stub->ListTasks(&c.ctx, req, out);
  }

  // Every page of a listing; fails the test on an error.
  std::vector<tasksv1::Task> ListAll(const std::string& token, tasksv1::ListTasksRequest req,
                                     int* pages = nullptr) {
    std::vector<tasksv1::Task> out;
    int n = 0;
    for (;;) {
      tasksv1::ListTasksResponse resp;
      auto s = List(token, req, &resp);
      EXPECT_TRUE(s.ok()) << Describe(s);
      if (!s.ok()) break;
      ++n;
      for (const auto& t : resp.tasks()) out.push_back(t);
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
      if (n > 100000) break;
    }
    if (pages) *pages = n;
    return out;
  }

  grpc::Status Complete(const std::string& token, const std::string& id,
                        tasksv1::CompleteTaskResponse* out = nullptr) {
    Call c(token);
    tasksv1::CompleteTaskRequest req;
    req.set_task_id(id);
    tasksv1::CompleteTaskResponse resp;
    auto s = stub->CompleteTask(&c.ctx, req, &resp);
    if (out) *out = resp;
    return s;
  }

  grpc::Status Shuffle(const std::string& token, int64_t* count = nullptr) {
    Call c(token, std::chrono::seconds(30));
    tasksv1::ShuffleTasksResponse resp;
    auto s = stub->ShuffleTasks(&c.ctx, tasksv1::ShuffleTasksRequest(), &resp);
    if (count) *count = resp.reassigned_count();
    return s;
  }

  // ---- database and stream ---------------------------------------------------------

  int64_t Q(std::string_view sql, const pg::Params& params = {}) {
    return QueryInt(tasks_db, sql, params);
  }

  // Waits until every committed event is on TASKS (with retention 0 the relay
  // deletes outbox rows only after the JetStream ack); returns TASKS' last seq.
  uint64_t Quiesce() {
    bool drained = Eventually([&] { return Q("SELECT count(*) FROM outbox") == 0; }, 30s);
    EXPECT_TRUE(drained) << Q("SELECT count(*) FROM outbox") << " events not published";
    return js->LastSeq("TASKS");
  }

  // The TASKS stream, decoded; messages are read once and cached (a deque, so
  // pointers to earlier events stay valid).
  const std::deque<TaskEvent>& Events() {
    if (js->LastSeq("TASKS") > read_up_to_) {
      for (auto& m : js->Read("TASKS", read_up_to_ + 1)) {
        read_up_to_ = std::max(read_up_to_, m.seq);
        events_.push_back(DecodeTaskEvent(m));
      }
    }
    return events_;
  }

  // The events about each task, in stream order.
  std::map<std::string, std::vector<const TaskEvent*>> EventsByTask() {
    std::map<std::string, std::vector<const TaskEvent*>> by;
    for (const auto& e : Events()) by[e.task_id].push_back(&e);
    return by;
  }

  std::vector<const TaskEvent*> EventsOf(const std::string& task_id) {
    std::vector<const TaskEvent*> out;
    for (const auto& e : Events()) {
      if (e.task_id == task_id) out.push_back(&e);
    }
    return out;
  }

  std::string auth_db;
  std::string tasks_db;
  std::unique_ptr<Daemon> auth;
  std::unique_ptr<Daemon> tasks;
  std::unique_ptr<authv1::AuthService::Stub> auth_stub;
  std::unique_ptr<tasksv1::TaskService::Stub> stub;
  std::unique_ptr<JsClient> js;
  Popug admin;

 private:
  std::mutex mu_;
  std::map<std::string, Popug> popugs_;
  std::deque<TaskEvent> events_;
  uint64_t read_up_to_ = 0;
};

}  // namespace ates::test
