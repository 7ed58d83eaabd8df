// The fault suite: each case runs a business day against the real daemons
// (37 accounts of every role, 3,000 tasks, completions racing shuffles, a day
// close) while one fault strikes, waits until the system has settled, and
// then reconciles every event on TASKS with billing's ledger, billing with
// itself and analytics with billing (faults/reconcile.hpp). Each case prints
// one `FAULT-RESULT case=... missing=... doubled=...` line.
//
// Each case runs in its own process (ctest runs the binary once per case with
// --gtest_filter), so it has its own PostgreSQL, nats-server and streams.
//
// Environment (for developers; CI uses the defaults):
//   ATES_FAULT_PG_OUTAGE_S  how long PostgreSQL stays stopped (180)
//   ATES_FAULT_PG_FREEZE_S  how long it stays frozen (40, or 20 with a statement timeout)
//   ATES_FAULT_NATS_DOWN_S  how long nats-server stays killed (5)
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "ates/events/tasks/v1/task_events.pb.h"
#include "ates/events/tasks/v2/task_events.pb.h"
#include "ates/platform/events.hpp"
#include "faults/fault_day.hpp"
#include "support/billing_helpers.hpp"
#include "support/nats_cluster.hpp"
#include "support/pg_proxy.hpp"
#include "support/wait.hpp"

namespace ates::test::faults {
namespace {

namespace tev1 = ::ates::events::tasks::v1;
namespace tev2 = ::ates::events::tasks::v2;
using std::chrono::seconds;

// Each distinct event of TASKS (by Nats-Msg-Id), in stream order.
std::vector<const StreamMessage*> Distinct(const std::vector<StreamMessage>& stream) {
  std::set<std::string> ids;
  std::vector<const StreamMessage*> out;
  for (const auto& m : stream) {
    if (ids.insert(m.Header(events::kHeaderMsgId)).second) out.push_back(&m);
  }
  return out;
}

int64_t Micros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

// Per task, the events of TASKS in stream order tell one consistent story:
// created before anything else, then assignments each taking over from the
// previous assignee (the creation's assignee first) at a time no earlier than
// the one before, then at most one completion, by the last assignee, and
// nothing after it; the last assignee on the stream is the one ates-tasks has.
std::vector<std::string> CheckPerTaskOrder(const std::vector<StreamMessage>& stream,
                                           const std::string& tasks_db, std::string* words) {
  struct Story {
    bool created = false, completed = false;
    std::string assignee;  // the current one as the stream tells it
    int64_t last_at = 0;
    int assigned = 0;
  };
  std::map<std::string, Story> tasks;
  std::vector<std::string> problems;
  auto note = [&](const StreamMessage& m, const std::string& task, const std::string& what) {
    problems.push_back("seq " + std::to_string(m.seq) + " task " + task + ": " + what);
  };
  int64_t checked = 0;
  for (const StreamMessage* mp : Distinct(stream)) {
    const auto& m = *mp;
    const std::string version = m.Header(events::kHeaderVersion);
    ++checked;
    if (m.subject == "tasks.task.created") {
      std::string task, assignee;
      if (version == "2") {
        tev2::TaskCreated c;
        c.ParseFromString(m.data);
        task = c.task_id();
        assignee = c.assignee_id();
        if (c.version() != 1) note(m, task, "created with version " + std::to_string(c.version()));
      } else {
        tev1::TaskCreated c;
        c.ParseFromString(m.data);
        task = c.task_id();
        assignee = c.assignee_id();
      }
      auto& t = tasks[task];
      if (t.created) note(m, task, "created twice");
      if (t.assigned > 0 || t.completed) note(m, task, "created after it was assigned/completed");
      t.created = true;
      t.assignee = assignee;
    } else if (m.subject == "tasks.task.assigned") {
      tev1::TaskAssigned a;
      a.ParseFromString(m.data);
      auto& t = tasks[a.task_id()];
      if (!t.created) note(m, a.task_id(), "assigned before it was created");
      if (t.completed) note(m, a.task_id(), "assigned after it was completed");
      // The first assignment is the creation's own (no previous assignee).
      const std::string want_prev = t.assigned == 0 ? "" : t.assignee;
      if (t.assigned == 0 && a.assignee_id() != t.assignee) {
        note(m, a.task_id(),
             "first assignment to " + a.assignee_id() + ", created for " + t.assignee);
      }
      if (a.previous_assignee_id() != want_prev) {
        note(m, a.task_id(),
             "assignment #" + std::to_string(t.assigned + 1) + " from '" +
                 a.previous_assignee_id() + "' but the stream's current assignee is '" + want_prev +
                 "'");
      }
      const int64_t at = Micros(a.assigned_at());
      if (at < t.last_at) {
        note(m, a.task_id(), "assigned_at goes back by " + std::to_string(t.last_at - at) + " us");
      }
      t.last_at = std::max(t.last_at, at);
      t.assignee = a.assignee_id();
      ++t.assigned;
    } else if (m.subject == "tasks.task.completed") {
      tev1::TaskCompleted c;
      c.ParseFromString(m.data);
      auto& t = tasks[c.task_id()];
      if (!t.created || t.assigned == 0) note(m, c.task_id(), "completed before created/assigned");
      if (t.completed) note(m, c.task_id(), "completed twice");
      if (c.assignee_id() != t.assignee) {
        note(m, c.task_id(),
             "completed by " + c.assignee_id() + ", assignee on the stream " + t.assignee);
      }
      if (Micros(c.completed_at()) < t.last_at)
        note(m, c.task_id(), "completed before its last assignment");
      t.completed = true;
    }
  }
  // The stream's story ends where ates-tasks' table is ("" : not compared).
  auto rows = tasks_db.empty()
                  ? pg::Result()
                  : Query(tasks_db, "SELECT id::text, assignee_id::text, status FROM tasks");
  int64_t differ = 0;
  for (int i = 0; !tasks_db.empty() && i < rows.Rows(); ++i) {
    auto it = tasks.find(rows.String(i, 0));
    if (it == tasks.end()) {
      problems.push_back("task " + rows.String(i, 0) + " has no event on TASKS");
      continue;
    }
    if (it->second.assignee != rows.String(i, 1) ||
        it->second.completed != (rows.String(i, 2) == "completed")) {
      if (++differ <= 5) {
        problems.push_back("task " + rows.String(i, 0) + " ends on the stream with " +
                           it->second.assignee + (it->second.completed ? " completed" : " open") +
                           ", in ates-tasks with " + rows.String(i, 1) + " " + rows.String(i, 2));
      }
    }
  }
  if (differ > 5) problems.push_back(std::to_string(differ) + " tasks end differently in all");
  int64_t reassigned = 0;
  for (const auto& [id, t] : tasks) reassigned += std::max(0, t.assigned - 1);
  *words += " order_checked_events=" + std::to_string(checked) +
            " order_tasks=" + std::to_string(tasks.size()) +
            " order_reassignments=" + std::to_string(reassigned);
  return problems;
}

// The tasks member whose relay leads now, by its log: its last "outbox relay
// is leader" is later than its last "outbox relay stepped down".
System::Member* TasksRelayLeader(System& system) {
  System::Member* leader = nullptr;
  for (auto& m : system.members()) {
    if (m.service != "ates-tasks") continue;
    std::string log = m.daemon->Log();
    auto led = log.rfind("outbox relay is leader");
    auto down = log.rfind("outbox relay stepped down");
    if (led != std::string::npos && (down == std::string::npos || down < led)) {
      if (leader != nullptr) return nullptr;  // two claim it: not settled yet
      leader = &m;
    }
  }
  return leader;
}

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The per-task order check sees a stream told in the wrong order.
TEST(FaultChecks, PerTaskOrderSeesAssignmentsOutOfOrder) {
  int seq = 0;
  auto msg = [&](const std::string& subject, int version, const std::string& data) {
    StreamMessage m;
    m.seq = static_cast<uint64_t>(++seq);
    m.subject = subject;
    m.headers[events::kHeaderMsgId] = "id-" + std::to_string(seq);
    m.headers[events::kHeaderVersion] = std::to_string(version);
    m.data = data;
    return m;
  };
  auto at = [](int64_t s) {
    google::protobuf::Timestamp t;
    t.set_seconds(1700000000 + s);
    return t;
  };
  tev2::TaskCreated created;
  created.set_task_id("t1");
  created.set_assignee_id("a");
  created.set_version(1);
  auto assigned = [&](const std::string& to, const std::string& from, int64_t s) {
    tev1::TaskAssigned a;
    a.set_task_id("t1");
    a.set_assignee_id(to);
    a.set_previous_assignee_id(from);
    *a.mutable_assigned_at() = at(s);
    return msg("tasks.task.assigned", 1, a.SerializeAsString());
  };
  tev1::TaskCompleted completed;
  completed.set_task_id("t1");
  completed.set_assignee_id("c");
  *completed.mutable_completed_at() = at(10);
  auto c = msg("tasks.task.created", 2, created.SerializeAsString());
  auto a0 = assigned("a", "", 0);
  auto a1 = assigned("b", "a", 5);
  auto a2 = assigned("c", "b", 7);
  auto done = msg("tasks.task.completed", 1, completed.SerializeAsString());
  std::string words;
  EXPECT_THAT(CheckPerTaskOrder({c, a0, a1, a2, done}, "", &words), ::testing::IsEmpty());
  // A duplicate copy (same id) is not a second event.
  EXPECT_THAT(CheckPerTaskOrder({c, a0, a1, a1, a2, done}, "", &words), ::testing::IsEmpty());
  EXPECT_THAT(CheckPerTaskOrder({c, a0, a2, a1, done}, "", &words),
              ::testing::Not(::testing::IsEmpty()));
  EXPECT_THAT(CheckPerTaskOrder({a0, c, a1, a2, done}, "", &words),
              ::testing::Not(::testing::IsEmpty()));
  EXPECT_THAT(CheckPerTaskOrder({c, a0, a1, done, a2}, "", &words),
              ::testing::Not(::testing::IsEmpty()));
  // A later reassignment stamped earlier than the one before it.
  auto back = assigned("d", "c", 6);
  EXPECT_THAT(CheckPerTaskOrder({c, a0, a1, a2, back}, "", &words), ::testing::SizeIs(1));
}

TEST(FaultSuite, PostgresStoppedForMinutesWhileConsumersHaveABacklog) {
  const int outage = EnvSeconds("ATES_FAULT_PG_OUTAGE_S", 180);
  RunFaultCase({"pg_stopped", [outage](FaultContext& f) {
                  std::string backlog = f.PauseConsumersDuringTheBurst();
                  f.stack.StopPostgres(TestStack::PgStopMode::kFast);
                  f.ResumeConsumers();
                  f.progress("fault injected: PostgreSQL stopped (fast shutdown) for " +
                             std::to_string(outage) + " s; backlog then " + backlog);
                  f.Hold(Seconds(outage), "PostgreSQL down");
                  f.stack.StartPostgres();
                  f.progress("fault cleared: PostgreSQL started; backlog " + f.Backlog());
                }});
}

TEST(FaultSuite, PostgresFrozenLongerThanTheStatementTimeout) {
  FaultCase c;
  c.name = "pg_frozen";
  // database.statement_timeout is being added to the daemons; until then the
  // freeze is simply long (40 s).
  const std::string configured = ConfigValue("ates-billing", "statement_timeout");
  int freeze = 40;
  std::string how = "no database.statement_timeout key yet";
  if (!configured.empty()) {
    bool millis = configured.find_first_not_of("0123456789") == std::string::npos;
    c.system.env["ATES_DATABASE_STATEMENT_TIMEOUT"] = millis ? "5000" : "5s";
    freeze = 20;
    how = "statement_timeout 5 s (config default " + configured + ")";
  }
  freeze = EnvSeconds("ATES_FAULT_PG_FREEZE_S", freeze);
  c.inject = [freeze, how](FaultContext& f) {
    std::string backlog = f.PauseConsumersDuringTheBurst();
    f.stack.FreezePostgres();
    f.ResumeConsumers();
    f.progress("fault injected: every PostgreSQL process stopped (SIGSTOP) for " +
               std::to_string(freeze) + " s, " + how + "; backlog then " + backlog);
    f.Hold(Seconds(freeze), "PostgreSQL frozen");
    f.stack.ThawPostgres();
    f.progress("fault cleared: PostgreSQL thawed (SIGCONT); backlog " + f.Backlog());
  };
  RunFaultCase(c);
}

TEST(FaultSuite, NatsServerKilledAndRestartedMidLoad) {
  const int down = EnvSeconds("ATES_FAULT_NATS_DOWN_S", 5);
  FaultCase c;
  c.name = "nats_killed";
  c.day.min_rest_of_day = std::chrono::seconds(20);
  c.inject = [down, day = c.day](FaultContext& f) {
    // A fifth into the rest of the day: creations, completions and the
    // relays' and consumers' traffic all in flight.
    const int64_t at = day.burst + (day.tasks - day.burst) / 5;
    Eventually([&] { return f.day.stats().created >= at || f.day.Reached(Milestone::kLoadDone); },
               std::chrono::minutes(5), std::chrono::milliseconds(10));
    f.stack.KillNats();
    f.progress("fault injected: nats-server killed (SIGKILL) after " +
               std::to_string(f.day.stats().created.load()) + " tasks");
    f.Hold(Seconds(down), "nats-server down");
    f.stack.StartNats();
    f.progress("fault cleared: nats-server restarted on its store; backlog " + f.Backlog());
  };
  RunFaultCase(c);
}

TEST(FaultSuite, EachDaemonKilledInTurnAndRestartedDuringTheLoad) {
  FaultCase c;
  c.name = "daemons_killed";
  c.day.min_rest_of_day = std::chrono::seconds(40);
  c.inject = [](FaultContext& f) {
    f.day.WaitFor(Milestone::kBurstDone);
    int kills = 0;
    // Round after round until the day is closed (at least one whole round).
    for (int round = 1; round <= 10; ++round) {
      for (auto& m : f.system.members()) {
        f.Hold(Seconds(2), "between kills");
        const auto start = std::chrono::steady_clock::now();
        f.system.Restart(m);
        ++kills;
        f.progress("fault injected: " + m.name + " killed (SIGKILL) and restarted in " +
                   std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - start)
                                      .count()) +
                   " ms (round " + std::to_string(round) + ")");
      }
      if (f.day.Reached(Milestone::kDayClosed) || f.day.Reached(Milestone::kFinished)) break;
    }
    f.progress("fault cleared: " + std::to_string(kills) + " kills");
  };
  RunFaultCase(c);
}

TEST(FaultSuite, TwoReplicasOfEveryConsumerDaemonServeTheDay) {
  FaultCase c;
  c.name = "two_replicas";
  c.system.replicas = 2;
  c.inject = [](FaultContext& f) {
    f.progress("fault: two replicas each of ates-tasks, ates-billing and ates-analytics");
    f.day.WaitFor(Milestone::kFinished);
  };
  RunFaultCase(c);
}

TEST(FaultSuite, RelayLeaderOfTasksFrozenAndTheStandbyTakesOver) {
  const int timeout_s = 3;
  const int freeze_s = EnvSeconds("ATES_FAULT_RELAY_FREEZE_S", 3 * timeout_s);
  struct Seen {
    std::string frozen, standby;
    double takeover_s = -1;
  };
  auto seen = std::make_shared<Seen>();
  FaultCase c;
  c.name = "relay_leader_frozen";
  c.system.tasks_replicas = 2;  // on the same database
  c.system.env["ATES_OUTBOX_LEADER_TIMEOUT"] = std::to_string(timeout_s) + "s";
  c.day.min_rest_of_day = seconds(30);
  c.inject = [seen, freeze_s, timeout_s, day = c.day](FaultContext& f) {
    const int64_t at = day.burst + (day.tasks - day.burst) / 5;
    Eventually([&] { return f.day.stats().created >= at || f.day.Reached(Milestone::kLoadDone); },
               std::chrono::minutes(5), std::chrono::milliseconds(10));
    System::Member* leader = nullptr;
    Eventually([&] { return (leader = TasksRelayLeader(f.system)) != nullptr; }, seconds(20));
    if (leader == nullptr) throw std::runtime_error("no ates-tasks replica says its relay leads");
    System::Member* standby = nullptr;
    for (auto& m : f.system.members()) {
      if (m.service == "ates-tasks" && &m != leader) standby = &m;
    }
    const size_t standby_led = Occurrences(standby->daemon->Log(), "outbox relay is leader");
    seen->frozen = leader->name;
    seen->standby = standby->name;
    leader->daemon->Signal(SIGSTOP);
    const auto frozen_at = std::chrono::steady_clock::now();
    f.progress("fault injected: " + leader->name + " (relay leader) frozen (SIGSTOP) for " +
               std::to_string(freeze_s) + " s after " +
               std::to_string(f.day.stats().created.load()) + " tasks, leader_timeout " +
               std::to_string(timeout_s) + " s");
    while (std::chrono::steady_clock::now() - frozen_at < seconds(freeze_s)) {
      if (seen->takeover_s < 0 &&
          Occurrences(standby->daemon->Log(), "outbox relay is leader") > standby_led) {
        seen->takeover_s = Seconds(std::chrono::steady_clock::now() - frozen_at).count();
        f.progress(standby->name + " took over the relay " + std::to_string(seen->takeover_s) +
                   " s after the freeze");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    leader->daemon->Signal(SIGCONT);
    f.progress("fault cleared: " + leader->name + " thawed (SIGCONT); backlog " + f.Backlog());
  };
  c.check = [seen, timeout_s](FaultContext& f, const std::vector<StreamMessage>& tasks,
                              std::string* words) {
    auto problems = CheckPerTaskOrder(tasks, f.system.Db("ates-tasks"), words);
    if (seen->takeover_s < 0) {
      problems.push_back("the standby " + seen->standby + " did not take over while " +
                         seen->frozen + " was frozen");
    } else if (seen->takeover_s > timeout_s * 1.25 + 2) {
      problems.push_back("the standby took over only after " + std::to_string(seen->takeover_s) +
                         " s");
    }
    // Once thawed, the old leader learns it lost its lease and stays quiet.
    for (auto& m : f.system.members()) {
      if (m.name == seen->frozen &&
          m.daemon->Log().find("outbox relay stepped down") == std::string::npos) {
        problems.push_back(seen->frozen +
                           " never logged 'outbox relay stepped down' after the thaw");
      }
    }
    *words += " frozen=" + seen->frozen + " takeover_s=" + std::to_string(seen->takeover_s);
    return problems;
  };
  RunFaultCase(c);
}

TEST(FaultSuite, CommitRepliesOfTasksLostAgainAndAgainDuringTheLoad) {
  const int every_ms = EnvSeconds("ATES_FAULT_COMMIT_LOST_EVERY_MS", 200);
  // ates-tasks reaches its database through the proxy; the checks go direct.
  auto proxy = std::make_shared<PgProxy>(TestStack::Get().pg_port());
  struct Drops {
    std::map<std::string, int> by_target;  // what the proxy was armed for -> drops
    int shuffle_targeted = 0;
  };
  auto drops = std::make_shared<Drops>();
  FaultCase c;
  c.name = "commit_lost";
  c.system.daemon_db = [proxy](const std::string& service, const std::string& url) {
    return service == "ates-tasks" ? proxy->Url(url) : url;
  };
  // Half the creations carry no request_id: the lost reply must not make a
  // second task of one call all the same (ADR 12).
  c.day.request_id_percent = 50;
  c.day.min_rest_of_day = seconds(20);
  c.inject = [proxy, drops, every_ms, day = c.day](FaultContext& f) {
    // In turn: a creation batch, a completion, the relay's bookkeeping, any
    // transaction at all; before each shuffle, that shuffle.
    const std::vector<std::pair<std::string, std::string>> targets = {
        {"create", "INSERT INTO tasks"},
        {"complete", "UPDATE tasks SET status = 'completed'"},
        {"outbox", "outbox"},
        {"any", ""}};
    f.progress(
        "fault injected: ates-tasks' COMMIT replies lost (connection dropped right after "
        "forwarding the COMMIT), one every " +
        std::to_string(every_ms) +
        " ms in turn: creations, completions, outbox, any; "
        "and each shuffle");
    size_t turn = 0;
    int64_t shuffles_hit = 0;
    while (!f.day.Reached(Milestone::kLoadDone) && !f.day.Reached(Milestone::kFinished)) {
      const int64_t k = f.day.stats().shuffles.load() + 1;
      const int64_t shuffle_at =
          day.burst + static_cast<int64_t>(day.tasks - day.burst) * k / (day.shuffles + 1);
      if (k <= day.shuffles && shuffles_hit < k && f.day.stats().created >= shuffle_at - 20) {
        // The shuffle's transaction takes the shuffle lock: lose its COMMIT reply.
        const int before = proxy->drops();
        proxy->Arm(PgProxy::Drop::kAfterCommit, "4242003", 1);
        bool hit = Eventually([&] { return proxy->drops() > before; }, seconds(30),
                              std::chrono::milliseconds(5));
        proxy->Disarm();
        ++shuffles_hit;
        if (hit) {
          ++drops->shuffle_targeted;
          ++drops->by_target["shuffle"];
        }
        f.progress(std::string("shuffle ") + std::to_string(k) + ": its COMMIT reply " +
                   (hit ? "lost" : "NOT hit within 30 s"));
        continue;
      }
      const auto& [what, needle] = targets[turn++ % targets.size()];
      const int before = proxy->drops();
      proxy->Arm(PgProxy::Drop::kAfterCommit, needle, 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(every_ms));
      proxy->Disarm();
      if (proxy->drops() > before) ++drops->by_target[what];
    }
    proxy->Disarm();
    std::string text;
    for (const auto& [what, n] : drops->by_target) text += " " + what + "=" + std::to_string(n);
    f.progress("fault cleared: " + std::to_string(proxy->drops()) +
               " connections dropped after a "
               "COMMIT (" +
               text.substr(text.empty() ? 0 : 1) + ")");
  };
  c.check = [proxy, drops](FaultContext& f, const std::vector<StreamMessage>& tasks,
                           std::string* words) {
    std::vector<std::string> problems;
    const std::string db = f.system.Db("ates-tasks");
    auto& st = f.day.stats();
    std::map<std::string, int64_t> unknown;
    {
      std::lock_guard lock(st.mu);
      unknown = st.commit_unknown;
    }
    auto n = [&](const char* call) { return unknown.count(call) ? unknown.at(call) : 0; };
    // One task per CreateTask call that got OK; a call without request_id that
    // was answered "may or may not have been applied" and retried may have
    // made one more (the client retried blindly), never more than that.
    const int64_t rows = QueryInt(db, "SELECT count(*) FROM tasks");
    const int64_t keyless_rows =
        QueryInt(db, "SELECT count(*) FROM tasks WHERE request_id IS NULL");
    const int64_t ok = st.created.load();
    const int64_t keyless_ok = st.created_without_request_id.load();
    const int64_t keyed_dupes =
        QueryInt(db,
                 "SELECT count(*) FROM (SELECT request_id FROM tasks WHERE request_id IS NOT NULL "
                 "GROUP BY request_id HAVING count(*) > 1) d");
    if (keyed_dupes != 0)
      problems.push_back(std::to_string(keyed_dupes) + " request_ids made 2+ tasks");
    if (rows - keyless_rows != ok - keyless_ok) {
      problems.push_back("keyed creations: " + std::to_string(ok - keyless_ok) + " OK calls, " +
                         std::to_string(rows - keyless_rows) + " tasks");
    }
    if (keyless_rows < keyless_ok || keyless_rows > keyless_ok + n("CreateTaskNoRequestId")) {
      problems.push_back("keyless creations: " + std::to_string(keyless_ok) + " OK calls, " +
                         std::to_string(keyless_rows) + " tasks, " +
                         std::to_string(n("CreateTaskNoRequestId")) + " answered commit-unknown");
    }
    // Titles are unique per call ("Fault day task <i>"): one task each.
    const int64_t twice = QueryInt(
        db, "SELECT count(*) FROM (SELECT title FROM tasks GROUP BY title HAVING count(*) > 1) d");
    if (twice > n("CreateTaskNoRequestId")) {
      problems.push_back(std::to_string(twice) + " CreateTask calls made two tasks or more");
    }
    // Shuffles: the assigned events of one shuffle share its correlation id;
    // each names a task once, and there is one shuffle per OK call (one more
    // per call answered "may or may not have been applied" and retried).
    std::map<std::string, std::map<std::string, int>> per_shuffle;  // correlation -> task -> n
    for (const StreamMessage* m : Distinct(tasks)) {
      if (m->subject != "tasks.task.assigned") continue;
      ::ates::events::tasks::v1::TaskAssigned a;
      a.ParseFromString(m->data);
      if (a.previous_assignee_id().empty()) continue;  // the creation's own
      ++per_shuffle[m->Header(events::kHeaderCorrelationId)][a.task_id()];
    }
    int64_t twice_in_one = 0, events = 0;
    for (const auto& [corr, per_task] : per_shuffle) {
      for (const auto& [task, k] : per_task) {
        events += k;
        if (k > 1) ++twice_in_one;
      }
    }
    if (twice_in_one)
      problems.push_back(std::to_string(twice_in_one) + " tasks reassigned twice by one shuffle");
    const int64_t shuffles_ok = st.shuffles.load();
    const int64_t applied = static_cast<int64_t>(per_shuffle.size());
    if (applied < shuffles_ok || applied > shuffles_ok + n("ShuffleTasks")) {
      problems.push_back(std::to_string(applied) + " shuffles on TASKS for " +
                         std::to_string(shuffles_ok) + " OK calls and " +
                         std::to_string(n("ShuffleTasks")) + " answered commit-unknown");
    }
    if (events != st.reassigned.load() && n("ShuffleTasks") == 0) {
      problems.push_back(std::to_string(events) +
                         " shuffle assignments on TASKS, the calls reported " +
                         std::to_string(st.reassigned.load()));
    }
    if (proxy->drops() == 0) problems.push_back("the proxy never dropped a connection");
    if (drops->shuffle_targeted == 0) problems.push_back("no shuffle's COMMIT reply was lost");
    std::string unknown_words;
    int64_t unknown_total = 0;
    for (const auto& [call, k] : unknown) {
      unknown_words += " unknown_" + call + "=" + std::to_string(k);
      unknown_total += k;
    }
    // What ates-tasks made of the drops (ADR 12): outcomes it asked for and learned.
    size_t asked = 0, learned = 0;
    for (auto& m : f.system.members()) {
      if (m.service != "ates-tasks") continue;
      const std::string log = m.daemon->Log();
      asked +=
          Occurrences(log, "connection lost at COMMIT, asking whether the transaction committed");
      learned += Occurrences(log, "commit outcome learned after the connection was lost");
    }
    *words +=
        " outcome_asked=" + std::to_string(asked) + " outcome_learned=" + std::to_string(learned);
    std::string drop_words;
    for (const auto& [what, k] : drops->by_target)
      drop_words += " dropped_" + what + "=" + std::to_string(k);
    *words += " commit_drops=" + std::to_string(proxy->drops()) + drop_words +
              " create_ok=" + std::to_string(ok) + " tasks_rows=" + std::to_string(rows) +
              " keyless_ok=" + std::to_string(keyless_ok) +
              " keyless_rows=" + std::to_string(keyless_rows) +
              " shuffle_calls_ok=" + std::to_string(shuffles_ok) +
              " shuffles_on_stream=" + std::to_string(applied) +
              " commit_unknown=" + std::to_string(unknown_total) + unknown_words;
    return problems;
  };
  RunFaultCase(c);
}

TEST(FaultSuite, LeaderOfTheReplicatedTasksStreamKilledInAThreeNodeJetStreamCluster) {
  const int down = EnvSeconds("ATES_FAULT_NATS_NODE_DOWN_S", 10);
  auto cluster = std::make_shared<NatsCluster>(3);
  cluster->Start();
  struct Seen {
    std::string killed, new_leader;
    double new_leader_s = -1;
    int64_t replicas = 0;
  };
  auto seen = std::make_shared<Seen>();
  FaultCase c;
  c.name = "jetstream_cluster";
  // Clients and daemons alike get the list of all three servers
  // (nats.url may list a cluster's servers, comma-separated).
  c.system.nats_url = cluster->url();
  c.system.env["ATES_NATS_URL"] = cluster->url();
  c.system.env["ATES_NATS_STREAM_REPLICAS"] = "3";
  c.day.min_rest_of_day = seconds(30);
  c.inject = [cluster, seen, down, day = c.day](FaultContext& f) {
    seen->replicas = f.js.StreamReplicas("TASKS");
    const int64_t at = day.burst + (day.tasks - day.burst) / 5;
    Eventually([&] { return f.day.stats().created >= at || f.day.Reached(Milestone::kLoadDone); },
               std::chrono::minutes(5), std::chrono::milliseconds(10));
    std::string leader;
    Eventually([&] { return !(leader = f.js.StreamLeader("TASKS")).empty(); }, seconds(20));
    const int i = cluster->index(leader);
    if (i < 0) throw std::runtime_error("TASKS has no known leader ('" + leader + "')");
    seen->killed = leader;
    cluster->Kill(i);
    const auto killed_at = std::chrono::steady_clock::now();
    f.progress("fault injected: nats-server " + leader + ", leader of TASKS (R" +
               std::to_string(seen->replicas) + "), killed (SIGKILL) after " +
               std::to_string(f.day.stats().created.load()) + " tasks");
    while (std::chrono::steady_clock::now() - killed_at < seconds(down)) {
      if (seen->new_leader_s < 0) {
        std::string now = f.js.StreamLeader("TASKS");
        if (!now.empty() && now != leader) {
          seen->new_leader = now;
          seen->new_leader_s = Seconds(std::chrono::steady_clock::now() - killed_at).count();
          f.progress("TASKS has a new leader, " + now + ", " + std::to_string(seen->new_leader_s) +
                     " s after the kill");
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    cluster->Restart(i);
    f.progress("fault cleared: nats-server " + leader + " restarted on its store; backlog " +
               f.Backlog());
  };
  c.check = [seen](FaultContext&, const std::vector<StreamMessage>&, std::string* words) {
    std::vector<std::string> problems;
    if (seen->replicas != 3) {
      problems.push_back("TASKS has " + std::to_string(seen->replicas) + " replicas, not 3");
    }
    if (seen->new_leader_s < 0)
      problems.push_back("TASKS got no new leader while " + seen->killed + " was down");
    *words += " daemons_servers=3 stream_replicas=" + std::to_string(seen->replicas) +
              " killed=" + seen->killed + " new_leader=" + seen->new_leader +
              " new_leader_s=" + std::to_string(seen->new_leader_s);
    return problems;
  };
  RunFaultCase(c);
}

}  // namespace
}  // namespace ates::test::faults
