#include "task_service.hpp"

#include <google/protobuf/util/time_util.h>

#include <cstdio>

#include "ates/events/tasks/v1/task_events.pb.h"
#include "ates/events/tasks/v2/task_events.pb.h"
#include "ates/platform/error.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/outbox.hpp"
#include "ates/platform/timestamps.hpp"

namespace ates::tasks {
namespace {

using Clock = std::chrono::system_clock;
namespace t1 = ::ates::events::tasks::v1;
namespace t2 = ::ates::events::tasks::v2;

constexpr std::string_view kCandidates =
    "SELECT id FROM accounts_replica WHERE active AND role IN ('worker', 'accountant')"
    " ORDER BY id";

// Inserts a batch of tasks, each only if its chosen assignee is still
// assignable; a task that is not inserted, or an idempotency key that exists
// (a unique violation: no ON CONFLICT, whose speculative insertion costs every
// row), aborts the pipeline, events included, and the batch is retried task by
// task.
constexpr std::string_view kInsertTasks =
    "WITH ins AS ("
    " INSERT INTO tasks (id, title, jira_id, description, status, assignee_id, created_by,"
    "  request_id, version, created_at, updated_at)"
    " SELECT n.id, n.title, n.jira_id, n.description, 'open', n.assignee_id, n.created_by,"
    "  n.request_id, 1, n.created_at, n.created_at"
    " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::uuid[],"
    "  $7::text[], $8::timestamptz[])"
    "  AS n(id, title, jira_id, description, assignee_id, created_by, request_id, created_at)"
    " WHERE EXISTS (SELECT 1 FROM accounts_replica a WHERE a.id = n.assignee_id AND a.active"
    "  AND a.role IN ('worker', 'accountant'))"
    " RETURNING 1)"
    " SELECT ates_assert((SELECT count(*) FROM ins) = cardinality($1::uuid[]),"
    "  'task not inserted')";

constexpr std::string_view kSelectTask =
    "SELECT id, title, jira_id, description, status, assignee_id, created_by, version,"
    " EXTRACT(EPOCH FROM created_at)::float8, EXTRACT(EPOCH FROM completed_at)::float8"
    " FROM tasks WHERE id = $1";
constexpr std::string_view kSelectTaskForUpdate =
    "SELECT id, title, jira_id, description, status, assignee_id, created_by, version,"
    " EXTRACT(EPOCH FROM created_at)::float8, EXTRACT(EPOCH FROM completed_at)::float8"
    " FROM tasks WHERE id = $1 FOR UPDATE";
constexpr std::string_view kSelectByRequest =
    "SELECT id, title, jira_id, description, status, assignee_id, created_by, version,"
    " EXTRACT(EPOCH FROM created_at)::float8, EXTRACT(EPOCH FROM completed_at)::float8"
    " FROM tasks WHERE created_by = $1 AND request_id = $2";
constexpr std::string_view kListTasks =
    "SELECT id, title, jira_id, description, status, assignee_id, created_by, version,"
    " EXTRACT(EPOCH FROM created_at)::float8, EXTRACT(EPOCH FROM completed_at)::float8"
    " FROM tasks WHERE id > $1 AND ($2 = '' OR assignee_id = $2::uuid)"
    " AND ($3 = '' OR status = $3) ORDER BY id LIMIT $4";
constexpr std::string_view kCompleteTask =
    "UPDATE tasks SET status = 'completed', completed_at = $2, updated_at = $2,"
    " version = version + 1 WHERE id = $1 RETURNING version";

constexpr std::string_view kShuffleLock = "SELECT pg_advisory_xact_lock(4242003)";
constexpr std::string_view kSetSeed = "SELECT setseed($1)";

// One statement: every open task gets a uniformly random candidate (random()
// is evaluated per row), and one tasks.task.assigned v1 event per task goes to
// the outbox. The body is protobuf built in SQL: field 1 task_id, 2
// assignee_id, 3 previous_assignee_id (each a 36-byte UUID string: tag, length
// 0x24, text) and field 4 assigned_at, pre-encoded by the caller as $2.
// A task completed meanwhile is skipped: `t.status = 'open'` is re-checked on
// the locked row.
constexpr std::string_view kShuffle =
    "WITH c AS ("
    " SELECT array_agg(id ORDER BY id) AS ids FROM accounts_replica"
    " WHERE active AND role IN ('worker', 'accountant')),"
    " upd AS ("
    "  UPDATE tasks t SET previous_assignee_id = t.assignee_id,"
    "   assignee_id = c.ids[1 + floor(random() * cardinality(c.ids))::int],"
    "   version = t.version + 1, updated_at = $1"
    "  FROM c WHERE t.status = 'open' AND cardinality(c.ids) > 0"
    "  RETURNING t.id, t.assignee_id, t.previous_assignee_id),"
    " ob AS ("
    "  INSERT INTO outbox (id, aggregate_type, aggregate_id, event_type, event_version, payload,"
    "   correlation_id, causation_id, occurred_at)"
    "  SELECT gen_random_uuid(), 'task', upd.id::text, 'tasks.task.assigned', 1,"
    "   '\\x0a24'::bytea || convert_to(upd.id::text, 'UTF8')"
    "   || '\\x1224'::bytea || convert_to(upd.assignee_id::text, 'UTF8')"
    "   || '\\x1a24'::bytea || convert_to(upd.previous_assignee_id::text, 'UTF8') || $2::bytea,"
    "   $3, '', $1 FROM upd RETURNING 1)"
    " SELECT (SELECT count(*) FROM ob), (SELECT cardinality(ids) FROM c)";

// Milliseconds until the cool-down ends, when it has not ended.
constexpr std::string_view kShuffleCooldownLeft =
    "SELECT ceil(extract(epoch FROM last_at + make_interval(secs => $1::float8) - now())"
    " * 1000)::bigint FROM shuffle_runs WHERE last_at + make_interval(secs => $1::float8) > now()";
constexpr std::string_view kStampShuffle =
    "INSERT INTO shuffle_runs (id, last_at) VALUES (true, now())"
    " ON CONFLICT (id) DO UPDATE SET last_at = EXCLUDED.last_at";

std::string RetryText(std::chrono::milliseconds wait) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(wait.count()) / 1000.0);
  return text;
}

Clock::time_point Now() {
  return Clock::time_point(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()));
}

Task ReadTask(const pg::Result& r, int row) {
  Task t;
  t.id = r.String(row, 0);
  t.title = r.String(row, 1);
  t.jira_id = r.String(row, 2);
  t.description = r.String(row, 3);
  t.status = r.Text(row, 4) == "completed" ? TaskStatus::kCompleted : TaskStatus::kOpen;
  t.assignee_id = r.String(row, 5);
  t.created_by = r.String(row, 6);
  t.version = r.Int(row, 7);
  t.created_at = platform::FromEpochText(r.Text(row, 8));
  if (!r.IsNull(row, 9)) t.completed_at = platform::FromEpochText(r.Text(row, 9));
  return t;
}

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

std::shared_ptr<const std::vector<std::string>> CandidateCache::Get() {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (ids_ && now - loaded_ < ttl_) return ids_;
  auto r = db_.WithRetry([&](pg::Connection& c) { return c.Exec(kCandidates); });
  auto ids = std::make_shared<std::vector<std::string>>();
  ids->reserve(r.Rows());
  for (int i = 0; i < r.Rows(); ++i) ids->push_back(r.String(i, 0));
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
        {{kInsertTasks,
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
    return c.Exec(kSelectByRequest, {pg::Text(created_by), pg::Text(request_id)});
  });
  if (r.Rows() == 0) return std::nullopt;
  return ReadTask(r, 0);
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

Task TaskService::Create(const auth::Principal& caller, const NewTask& request) {
  Validate(request);
  CheckCreateRate(caller);
  auto same_request = [&](const Task& t) {
    return t.title == request.title && t.jira_id == request.jira_id &&
           t.description == request.description;
  };
  auto replay = [&](const Task& existing) {
    if (!same_request(existing)) {
      throw Error(ErrorCode::kAlreadyExists,
                  "request_id '" + request.request_id + "' was used for a different task");
    }
    return existing;
  };
  // A repeated request_id is found by the insert itself (its unique index
  // aborts the batch), so the common case, a new key, costs no look-up first.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto candidates = candidates_.Get();
    if (candidates->empty()) {
      candidates_.Invalidate();
      candidates = candidates_.Get();
      if (candidates->empty()) {
        if (!request.request_id.empty()) {
          if (auto existing = FindByRequest(caller.account_id, request.request_id)) {
            return replay(*existing);
          }
        }
        throw Error(ErrorCode::kFailedPrecondition,
                    "no account can take a task: there is no active worker or accountant");
      }
    }
    Task t;
    t.id = events::NewUuid();
    t.title = request.title;
    t.jira_id = request.jira_id;
    t.description = request.description;
    t.status = TaskStatus::kOpen;
    t.assignee_id = (*candidates)[picker_.Pick(candidates->size())];
    t.created_by = caller.account_id;
    t.version = 1;
    t.created_at = Now();

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
    evs.push_back(events::Make("tasks.task.created", 2, created, "task", t.id));
    evs.push_back(events::Make("tasks.task.assigned", 1, assigned, "task", t.id));
    for (auto& e : evs) {
      e.occurred_at = t.created_at;
      e.correlation_id = evs.front().id;
    }
    evs[1].causation_id = evs[0].id;
    try {
      PendingCreate pending{&t, &request.request_id, &evs};
      creates_.Submit(pending);
      return t;
    } catch (const pg::PgError& e) {
      if (!e.IsAssertion() && !e.IsUniqueViolation()) throw;
    }
    // Not inserted: the key was taken meanwhile, or the assignee stopped being assignable.
    if (!request.request_id.empty()) {
      if (auto existing = FindByRequest(caller.account_id, request.request_id)) {
        return replay(*existing);
      }
    }
    candidates_.Invalidate();
  }
  throw Error(ErrorCode::kUnavailable, "accounts changed while assigning; retry");
}

Task TaskService::Get(const auth::Principal& caller, const std::string& task_id) {
  RequireUuid(task_id, "task_id");
  auto r =
      db_.WithRetry([&](pg::Connection& c) { return c.Exec(kSelectTask, {pg::Text(task_id)}); });
  if (r.Rows() == 0) throw Error(ErrorCode::kNotFound, "no task " + task_id);
  Task t = ReadTask(r, 0);
  if (!SeesAllTasks(caller.role) && t.assignee_id != caller.account_id) {
    throw Error(ErrorCode::kPermissionDenied, "task " + task_id + " is not assigned to you");
  }
  return t;
}

TaskPage TaskService::List(const auth::Principal& caller, const TaskFilter& filter) {
  Validator v;
  v.Check(filter.page_size >= 0 && filter.page_size <= 500, "page_size",
          "must be 0..500 (0 means 100)");
  v.Check(filter.page_token.empty() || events::IsUuid(filter.page_token), "page_token",
          "must be a token returned by a previous call");
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
  int limit = filter.page_size == 0 ? 100 : filter.page_size;
  std::string status;
  if (filter.status) status = *filter.status == TaskStatus::kOpen ? "open" : "completed";
  std::string after =
      filter.page_token.empty() ? "00000000-0000-0000-0000-000000000000" : filter.page_token;
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(kListTasks,
                  {pg::Text(after), pg::Text(assignee), pg::Text(status), pg::Int(limit + 1)});
  });
  TaskPage page;
  for (int i = 0; i < r.Rows() && i < limit; ++i) page.tasks.push_back(ReadTask(r, i));
  if (r.Rows() > limit) page.next_page_token = page.tasks.back().id;
  return page;
}

Task TaskService::Complete(const auth::Principal& caller, const std::string& task_id) {
  RequireUuid(task_id, "task_id");
  bool changed = false;
  Task t = db_.InTransaction([&](pg::Transaction& tx) {
    changed = false;
    auto r = tx.Exec(kSelectTaskForUpdate, {pg::Text(task_id)});
    if (r.Rows() == 0) throw Error(ErrorCode::kNotFound, "no task " + task_id);
    Task task = ReadTask(r, 0);
    if (task.assignee_id != caller.account_id) {
      throw Error(ErrorCode::kPermissionDenied, "only the assignee may complete task " + task_id);
    }
    if (task.status == TaskStatus::kCompleted) return task;  // final; no second event
    auto now = Now();
    auto v = tx.Exec(kCompleteTask, {pg::Text(task_id), pg::Text(events::FormatTimestamp(now))});
    task.version = v.Int(0, 0);
    task.status = TaskStatus::kCompleted;
    task.completed_at = now;
    t1::TaskCompleted completed;
    completed.set_task_id(task.id);
    completed.set_assignee_id(task.assignee_id);
    *completed.mutable_completed_at() = platform::ToTimestamp(now);
    auto e = events::Make("tasks.task.completed", 1, completed, "task", task.id);
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
  auto left = tx.Exec(kShuffleCooldownLeft, {seconds});
  if (left.Rows() > 0) {
    std::chrono::milliseconds wait(left.Int(0, 0));
    throw Error(
        ErrorCode::kResourceExhausted,
        "tasks were shuffled moments ago; the next shuffle is possible in " + RetryText(wait))
        .WithRetryAfter(wait);
  }
  tx.Exec(kStampShuffle);
}

int64_t TaskService::Shuffle(const auth::Principal& caller) {
  if (!SeesAllTasks(caller.role)) {
    throw Error(ErrorCode::kPermissionDenied, "only an admin or a manager may shuffle tasks");
  }
  auto now = Now();
  t1::TaskAssigned stamp;
  *stamp.mutable_assigned_at() = platform::ToTimestamp(now);
  std::string assigned_at_field = stamp.SerializeAsString();
  std::string correlation = events::NewUuid();
  int64_t count = 0;
  int64_t candidates = 0;
  db_.InTransaction([&](pg::Transaction& tx) {
    tx.Exec(kShuffleLock);
    CheckShuffleCooldown(tx);
    if (shuffle_seed_) tx.Exec(kSetSeed, {pg::Text(std::to_string(*shuffle_seed_))});
    auto r = tx.Exec(kShuffle, {pg::Text(events::FormatTimestamp(now)),
                                pg::Bytes(assigned_at_field), pg::Text(correlation)});
    count = r.Int(0, 0);
    candidates = r.IsNull(0, 1) ? 0 : r.Int(0, 1);
    // Thrown inside the transaction: a refused shuffle starts no cool-down.
    if (candidates == 0) {
      throw Error(ErrorCode::kFailedPrecondition,
                  "no account can take a task: there is no active worker or accountant");
    }
  });
  if (count > 0) on_commit_();
  log::Info("tasks shuffled", {{"count", std::to_string(count)}, {"correlation_id", correlation}});
  return count;
}

}  // namespace ates::tasks
