#include "task_service.hpp"

#include <google/protobuf/util/time_util.h>

#include <cstdio>

#include "ates/contracts/catalogue.hpp"
#include "ates/platform/error.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/outbox.hpp"
#include "ates/platform/page_token.hpp"
#include "ates/platform/timestamps.hpp"
#include "tasks/queries.hpp"

namespace ates::tasks {
namespace {

using Clock = std::chrono::system_clock;
namespace t1 = ::ates::events::tasks::v1;
namespace t2 = ::ates::events::tasks::v2;

std::string RetryText(std::chrono::milliseconds wait) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(wait.count()) / 1000.0);
  return text;
}

Clock::time_point Now() {
  return Clock::time_point(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()));
}

// A row of select_task.sql and the other task reads.
Task TaskFrom(const pg::Row& row) {
  Task t;
  t.id = row.String("id");
  t.title = row.String("title");
  t.jira_id = row.String("jira_id");
  t.description = row.String("description");
  t.status = row.Text("status") == "completed" ? TaskStatus::kCompleted : TaskStatus::kOpen;
  t.assignee_id = row.String("assignee_id");
  t.assignee_login = row.String("assignee_login");
  t.assignee_name = row.String("assignee_name");
  t.created_by = row.String("created_by");
  t.version = row.Int("version");
  t.created_at = platform::FromEpochText(row.Text("created_at"));
  if (!row.IsNull("completed_at"))
    t.completed_at = platform::FromEpochText(row.Text("completed_at"));
  return t;
}

// tasks.task.created v2 and tasks.task.assigned of a new task, one correlation.
std::vector<events::OutgoingEvent> CreatedEvents(const Task& t) {
  t2::TaskCreated created;
  created.set_task_id(t.id);
  created.set_title(t.title);
  created.set_jira_id(t.jira_id);
  created.set_description(t.description);
  created.set_created_by(t.created_by);
  created.set_assignee_id(t.assignee_id);
  created.set_version(1);
  *created.mutable_created_at() = platform::ToTimestamp(t.created_at);
  t1::TaskAssigned assigned;
  assigned.set_task_id(t.id);
  assigned.set_assignee_id(t.assignee_id);
  *assigned.mutable_assigned_at() = platform::ToTimestamp(t.created_at);
  std::vector<events::OutgoingEvent> evs;
  evs.reserve(2);
  evs.push_back(contracts::Make(created, t.id));
  evs.push_back(contracts::Make(assigned, t.id));
  for (auto& e : evs) {
    e.occurred_at = t.created_at;
    e.correlation_id = evs.front().id;
  }
  evs[1].causation_id = evs[0].id;
  return evs;
}

// A task a shuffle moved: shuffle_open_tasks.sql's row.
struct Reassignment {
  std::string task_id;
  std::string assignee_id;
  std::string previous_assignee_id;
  static Reassignment From(const pg::Row& row) {
    return {row.String("task_id"), row.String("assignee_id"), row.String("previous_assignee_id")};
  }
};

void RequireUuid(const std::string& value, const char* field) {
  if (!events::IsUuid(value)) {
    throw Error(ErrorCode::kInvalidArgument, std::string(field) + " must be a UUID",
                {{field, "must be a UUID"}});
  }
}

}  // namespace

bool SeesAllTasks(auth::Role role) {
  return role == auth::Role::kAdmin || role == auth::Role::kManager;
}

std::shared_ptr<const std::vector<Candidate>> CandidateCache::Get() {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (ids_ && now - loaded_ < ttl_) return ids_;
  auto r = db_.WithRetry([&](pg::Connection& c) { return c.Exec(sql::kSelectCandidates); });
  auto ids = std::make_shared<std::vector<Candidate>>();
  ids->reserve(r.Rows());
  for (int i = 0; i < r.Rows(); ++i) {
    auto row = r.At(i);
    ids->push_back({row.String("id"), row.String("login"), row.String("full_name")});
  }
  ids_ = std::move(ids);
  loaded_ = now;
  return ids_;
}

void CandidateCache::Invalidate() {
  std::lock_guard lock(mu_);
  ids_.reset();
}

TaskService::TaskService(pg::Pool& db, platform::RandomPicker& picker,
                         std::function<void()> on_commit, std::optional<double> shuffle_seed,
                         TaskLimits limits)
    : db_(db),
      picker_(picker),
      on_commit_(std::move(on_commit)),
      shuffle_seed_(shuffle_seed),
      candidates_(db, std::chrono::milliseconds(1000)),
      limits_(limits),
      create_rate_(limits.create_per_minute, limits.create_burst),
      // One batch in flight; the calls that arrive meanwhile gather for the next
      // (with two in flight the batches were half the size and no faster).
      creates_([this](const std::vector<PendingCreate*>& batch) { FlushCreates(batch); }, 256, 1,
               // A lost database (already retried) is no one item's fault.
               [](const std::exception_ptr& error) {
                 try {
                   std::rethrow_exception(error);
                 } catch (const pg::PgError& e) {
                   return !e.IsRetryable();
                 } catch (...) {
                   return true;
                 }
               }) {}

void TaskService::FlushCreates(const std::vector<PendingCreate*>& batch) {
  std::vector<std::string> ids, titles, jira_ids, descriptions, assignees, creators, requests,
      times;
  std::vector<events::OutgoingEvent> evs;
  for (const auto* p : batch) {
    const Task& t = *p->task;
    ids.push_back(t.id);
    titles.push_back(t.title);
    jira_ids.push_back(t.jira_id);
    descriptions.push_back(t.description);
    assignees.push_back(t.assignee_id);
    creators.push_back(t.created_by);
    requests.push_back(*p->request_id);
    times.push_back(events::FormatTimestamp(t.created_at));
    evs.insert(evs.end(), p->events->begin(), p->events->end());
  }
  // A transaction of its own rather than the pipeline's implicit one: its
  // COMMIT goes in a second round trip, after the transaction id is known, so
  // a lost COMMIT reply is resolved instead of inserting the batch twice.
  db_.InTransaction([&](pg::Transaction& tx) {
    tx.ExecPipeline(
        {{sql::kInsertTasks,
          {pg::TextArray(ids), pg::TextArray(titles), pg::TextArray(jira_ids),
           pg::TextArray(descriptions), pg::TextArray(assignees), pg::TextArray(creators),
           pg::NullableTextArray(requests, ""), pg::TextArray(times)}},
         platform::OutboxInsertMany(evs)},
        pg::Connection::Plan::kGeneric);
  });
  on_commit_();
}

std::optional<Task> TaskService::FindByRequest(const std::string& created_by,
                                               const std::string& request_id) {
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.ExecPrepared(sql::kSelectTaskByRequest, {pg::Text(created_by), pg::Text(request_id)});
  });
  if (r.Rows() == 0) return std::nullopt;
  return TaskFrom(r.At(0));
}

void TaskService::CheckCreateRate(const auth::Principal& caller) {
  auto wait = create_rate_.Take(caller.account_id);
  if (wait.count() == 0) return;
  throw Error(ErrorCode::kResourceExhausted,
              "too many tasks created by this account (at most " +
                  std::to_string(static_cast<int64_t>(limits_.create_per_minute)) +
                  " a minute); retry in " + RetryText(wait))
      .WithRetryAfter(wait);
}

std::shared_ptr<const std::vector<Candidate>> TaskService::AssignableAccounts() {
  auto candidates = candidates_.Get();
  if (!candidates->empty()) return candidates;
  candidates_.Invalidate();
  return candidates_.Get();
}

std::optional<Task> TaskService::Replayed(const auth::Principal& caller, const NewTask& request) {
  if (request.request_id.empty()) return std::nullopt;
  auto existing = FindByRequest(caller.account_id, request.request_id);
  if (!existing) return std::nullopt;
  if (existing->title != request.title || existing->jira_id != request.jira_id ||
      existing->description != request.description) {
    throw Error(ErrorCode::kAlreadyExists,
                "request_id '" + request.request_id + "' was used for a different task");
  }
  return existing;
}

bool TaskService::TryInsert(const Task& task, const std::string& request_id) {
  auto evs = CreatedEvents(task);
  try {
    PendingCreate pending{&task, &request_id, &evs};
    creates_.Submit(pending);
    return true;
  } catch (const pg::PgError& e) {
    if (!e.IsAssertion() && !e.IsUniqueViolation()) throw;
  }
  return false;
}

Task TaskService::Create(const auth::Principal& caller, const NewTask& request) {
  Validate(request);
  CheckCreateRate(caller);
  // A repeated request_id is found by the insert itself (its unique index
  // aborts the batch), so the common case, a new key, costs no look-up first.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto candidates = AssignableAccounts();
    if (candidates->empty()) {
      if (auto existing = Replayed(caller, request)) return *existing;
      throw Error(ErrorCode::kFailedPrecondition,
                  "no account can take a task: there is no active worker or accountant");
    }
    Task t;
    t.id = events::NewUuid();
    t.title = request.title;
    t.jira_id = request.jira_id;
    t.description = request.description;
    t.status = TaskStatus::kOpen;
    const Candidate& assignee = (*candidates)[picker_.Pick(candidates->size())];
    t.assignee_id = assignee.id;
    t.assignee_login = assignee.login;
    t.assignee_name = assignee.name;
    t.created_by = caller.account_id;
    t.version = 1;
    t.created_at = Now();
    if (TryInsert(t, request.request_id)) {
      // Debug: one line per call at the create rate would flood an info log.
      log::Debug("task created", {{"task_id", t.id}, {"assignee_id", t.assignee_id}});
      return t;
    }
    // Not inserted: the key was taken meanwhile, or the assignee stopped being assignable.
    if (auto existing = Replayed(caller, request)) return *existing;
    candidates_.Invalidate();
  }
  throw Error(ErrorCode::kUnavailable, "accounts changed while assigning; retry");
}

Task TaskService::Get(const auth::Principal& caller, const std::string& task_id) {
  RequireUuid(task_id, "task_id");
  auto r = db_.WithRetry(
      [&](pg::Connection& c) { return c.ExecPrepared(sql::kSelectTask, {pg::Text(task_id)}); });
  if (r.Rows() == 0) throw Error(ErrorCode::kNotFound, "no task " + task_id);
  Task t = TaskFrom(r.At(0));
  if (!SeesAllTasks(caller.role) && t.assignee_id != caller.account_id) {
    throw Error(ErrorCode::kPermissionDenied, "task " + task_id + " is not assigned to you");
  }
  return t;
}

TaskPage TaskService::List(const auth::Principal& caller, const TaskFilter& filter) {
  Validator v;
  v.Check(filter.assignee_id.empty() || events::IsUuid(filter.assignee_id), "assignee_id",
          "must be an account id (UUID)");
  v.ThrowIfInvalid();
  std::string assignee = filter.assignee_id;
  if (!SeesAllTasks(caller.role)) {
    if (!assignee.empty() && assignee != caller.account_id) {
      throw Error(ErrorCode::kPermissionDenied, "you may list only your own tasks");
    }
    assignee = caller.account_id;
  }
  std::string status;
  if (filter.status) status = *filter.status == TaskStatus::kOpen ? "open" : "completed";
  auto page = platform::PageRequest::Read(
      filter.page_size, filter.page_token,
      platform::PageFilter("ListTasks").Add("status", status).Add("assignee_id", assignee));
  std::string after = page.cursor().value_or("00000000-0000-0000-0000-000000000000");
  if (!events::IsUuid(after)) platform::ThrowBadPageToken();
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(sql::kListTasks, {pg::Text(after), pg::Text(assignee), pg::Text(status),
                                    pg::Int(page.limit() + 1)});
  });
  TaskPage out;
  for (int i = 0; i < r.Rows() && i < page.limit(); ++i) out.tasks.push_back(TaskFrom(r.At(i)));
  if (r.Rows() > page.limit()) out.next_page_token = page.NextToken(out.tasks.back().id);
  return out;
}

Task TaskService::Complete(const auth::Principal& caller, const std::string& task_id) {
  RequireUuid(task_id, "task_id");
  bool changed = false;
  Task t = db_.InTransaction([&](pg::Transaction& tx) {
    changed = false;
    auto r = tx.Exec(sql::kSelectTaskForUpdate, {pg::Text(task_id)});
    if (r.Rows() == 0) throw Error(ErrorCode::kNotFound, "no task " + task_id);
    Task task = TaskFrom(r.At(0));
    if (task.assignee_id != caller.account_id) {
      throw Error(ErrorCode::kPermissionDenied, "only the assignee may complete task " + task_id);
    }
    if (task.status == TaskStatus::kCompleted) return task;  // final; no second event
    auto now = Now();
    auto v =
        tx.Exec(sql::kCompleteTask, {pg::Text(task_id), pg::Text(events::FormatTimestamp(now))});
    task.version = v.At(0).Int("version");
    task.status = TaskStatus::kCompleted;
    task.completed_at = now;
    t1::TaskCompleted completed;
    completed.set_task_id(task.id);
    completed.set_assignee_id(task.assignee_id);
    *completed.mutable_completed_at() = platform::ToTimestamp(now);
    auto e = contracts::Make(completed, task.id);
    e.occurred_at = now;
    tx.Exec(platform::OutboxInsert(e));
    changed = true;
    return task;
  });
  if (changed) on_commit_();
  return t;
}

void TaskService::CheckShuffleCooldown(pg::Transaction& tx) {
  if (limits_.shuffle_cooldown.count() <= 0) return;
  // Under the shuffle lock: the check and the stamp cannot interleave with
  // another replica's. A shuffle that fails rolls its stamp back.
  auto seconds = pg::Text(std::to_string(limits_.shuffle_cooldown.count() / 1000.0));
  auto left = tx.Exec(sql::kShuffleCooldownLeft, {seconds});
  if (left.Rows() > 0) {
    std::chrono::milliseconds wait(left.At(0).Int("wait_ms"));
    throw Error(
        ErrorCode::kResourceExhausted,
        "tasks were shuffled moments ago; the next shuffle is possible in " + RetryText(wait))
        .WithRetryAfter(wait);
  }
  tx.Exec(sql::kStampShuffle);
}

int64_t TaskService::Shuffle(const auth::Principal& caller) {
  if (!SeesAllTasks(caller.role)) {
    throw Error(ErrorCode::kPermissionDenied, "only an admin or a manager may shuffle tasks");
  }
  auto now = Now();
  std::string correlation = events::NewUuid();
  int64_t count = 0;
  db_.InTransaction([&](pg::Transaction& tx) {
    tx.Exec(sql::kShuffleLock);
    CheckShuffleCooldown(tx);
    // Thrown inside the transaction: a refused shuffle starts no cool-down.
    if (tx.Exec(sql::kCountCandidates).At(0).Int("candidates") == 0) {
      throw Error(ErrorCode::kFailedPrecondition,
                  "no account can take a task: there is no active worker or accountant");
    }
    if (shuffle_seed_) tx.Exec(sql::kSetSeed, {pg::Text(std::to_string(*shuffle_seed_))});
    count = ReassignOpenTasks(tx, now, correlation);
  });
  if (count > 0) on_commit_();
  log::Info("tasks shuffled", {{"count", std::to_string(count)}, {"correlation_id", correlation}});
  return count;
}

int64_t TaskService::ReassignOpenTasks(pg::Transaction& tx, Clock::time_point now,
                                       const std::string& correlation) {
  auto moved = tx.Exec(sql::kShuffleOpenTasks, {pg::Text(events::FormatTimestamp(now))});
  if (moved.Rows() == 0) return 0;
  // One tasks.task.assigned per task, built here from the rows (the message is
  // reused: only its ids change from task to task).
  t1::TaskAssigned assigned;
  *assigned.mutable_assigned_at() = platform::ToTimestamp(now);
  std::vector<std::string> task_ids, payloads;
  task_ids.reserve(moved.Rows());
  payloads.reserve(moved.Rows());
  for (int i = 0; i < moved.Rows(); ++i) {
    auto r = Reassignment::From(moved.At(i));
    assigned.set_task_id(r.task_id);
    assigned.set_assignee_id(r.assignee_id);
    assigned.set_previous_assignee_id(r.previous_assignee_id);
    payloads.push_back(assigned.SerializeAsString());
    task_ids.push_back(std::move(r.task_id));
  }
  constexpr const auto& spec = contracts::Spec<t1::TaskAssigned>();
  tx.Exec(sql::kInsertShuffleEvents,
          {pg::Text(std::string(spec.aggregate_type)), pg::Text(std::string(spec.name)),
           pg::Int(spec.version), pg::Text(correlation), pg::Text(events::FormatTimestamp(now)),
           pg::TextArray(task_ids), pg::BytesArray(payloads), platform::CurrentTraceparent()});
  return moved.Rows();
}

}  // namespace ates::tasks
