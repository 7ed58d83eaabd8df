#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ates/platform/events.hpp"
#include "ates/platform/group_commit.hpp"
#include "ates/platform/pg.hpp"
#include "ates/platform/random.hpp"
#include "ates/platform/rate_limit.hpp"
#include "ates/platform/token.hpp"
#include "task_rules.hpp"

namespace ates::tasks {

enum class TaskStatus { kOpen, kCompleted };

struct Task {
  std::string id;
  std::string title;
  std::string jira_id;
  std::string description;
  TaskStatus status = TaskStatus::kOpen;
  std::string assignee_id;
  std::string assignee_login;  // from accounts_replica; "" while the replica has not seen them
  std::string assignee_name;
  std::string created_by;
  int64_t version = 1;
  std::chrono::system_clock::time_point created_at;
  std::optional<std::chrono::system_clock::time_point> completed_at;
};

struct TaskPage {
  std::vector<Task> tasks;
  std::string next_page_token;
};

struct TaskFilter {
  std::optional<TaskStatus> status;
  std::string assignee_id;  // "" = any
  int page_size = 0;
  std::string page_token;
};

// An account a task may go to, with the login and name a new task shows.
struct Candidate {
  std::string id;
  std::string login;
  std::string name;
};

// The accounts a task may go to (active, neither admin nor manager),
// read from accounts_replica and kept for a moment; a write re-checks the
// chosen id in SQL, so a stale entry can never be assigned.
class CandidateCache final {
 public:
  CandidateCache(pg::Pool& db, std::chrono::milliseconds ttl) : db_(db), ttl_(ttl) {}
  std::shared_ptr<const std::vector<Candidate>> Get();
  void Invalidate();

 private:
  pg::Pool& db_;
  std::chrono::milliseconds ttl_;
  std::mutex mu_;
  std::shared_ptr<const std::vector<Candidate>> ids_;
  std::chrono::steady_clock::time_point loaded_{};
};

// Business limits against a hostile or runaway caller; each is answered with
// RESOURCE_EXHAUSTED and a retry delay. Zero turns a limit off.
struct TaskLimits {
  double create_per_minute = 0;                   // CreateTask calls per account (per replica)
  double create_burst = 1;                        // of which this many at once
  std::chrono::milliseconds shuffle_cooldown{0};  // between two shuffles, all replicas
};

// One CreateTask waiting for its batch.
struct PendingCreate {
  const Task* task;
  const std::string* request_id;  // "" = none
  const std::vector<events::OutgoingEvent>* events;
};

// The task tracker's rules over its database. Every change commits together
// with its events; `on_commit` wakes the outbox relay.
class TaskService final {
 public:
  TaskService(pg::Pool& db, platform::RandomPicker& picker, std::function<void()> on_commit,
              std::optional<double> shuffle_seed = std::nullopt, TaskLimits limits = {});

  Task Create(const auth::Principal& caller, const NewTask& request);
  Task Get(const auth::Principal& caller, const std::string& task_id);
  TaskPage List(const auth::Principal& caller, const TaskFilter& filter);
  Task Complete(const auth::Principal& caller, const std::string& task_id);
  int64_t Shuffle(const auth::Principal& caller);

  CandidateCache& candidates() { return candidates_; }

 private:
  std::optional<Task> FindByRequest(const std::string& created_by, const std::string& request_id);
  // The candidates, loaded again once when the cache says there are none.
  std::shared_ptr<const std::vector<Candidate>> AssignableAccounts();
  // The task this request created before (same request_id), if any;
  // ALREADY_EXISTS when that key was used for a different task.
  std::optional<Task> Replayed(const auth::Principal& caller, const NewTask& request);
  // Inserts `task` with its events in the next batch; false when the batch
  // refused it (its key is taken or its assignee is no longer assignable).
  bool TryInsert(const Task& task, const std::string& request_id);
  // Reassigns every open task with one statement, and adds one assigned event
  // per task; returns how many tasks moved.
  int64_t ReassignOpenTasks(pg::Transaction& tx, std::chrono::system_clock::time_point now,
                            const std::string& correlation);
  void FlushCreates(const std::vector<PendingCreate*>& batch);
  void CheckCreateRate(const auth::Principal& caller);
  void CheckShuffleCooldown(pg::Transaction& tx);

  pg::Pool& db_;
  platform::RandomPicker& picker_;
  std::function<void()> on_commit_;
  std::optional<double> shuffle_seed_;
  CandidateCache candidates_;
  TaskLimits limits_;
  platform::KeyedRateLimiter create_rate_;
  // Concurrent CreateTask calls share transactions: the tasks of one batch are
  // inserted by one statement and committed together.
  platform::GroupCommit<PendingCreate> creates_;
};

bool SeesAllTasks(auth::Role role);  // admin and manager

}  // namespace ates::tasks
