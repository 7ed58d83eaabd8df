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
#include <gtest/gtest.h>
#include <signal.h>

#include <set>

#include "ates/events/tasks/v1/task_events.pb.h"
#include "ates/events/tasks/v2/task_events.pb.h"
#include "ates/platform/events.hpp"
#include "faults/fault_day.hpp"
#include "integration/billing_helpers.hpp"
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
        note(m, a.task_id(), "first assignment to " + a.assignee_id() + ", created for " + t.assignee);
      }
      if (a.previous_assignee_id() != want_prev) {
        note(m, a.task_id(),
             "assignment #" + std::to_string(t.assigned + 1) + " from '" + a.previous_assignee_id() +
                 "' but the stream's current assignee is '" + want_prev + "'");
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
        note(m, c.task_id(), "completed by " + c.assignee_id() + ", assignee on the stream " + t.assignee);
      }
      if (Micros(c.completed_at()) < t.last_at) note(m, c.task_id(), "completed before its last assignment");
      t.completed = true;
    }
  }
  // The stream's story ends where ates-tasks' table is.
  auto rows = Query(tasks_db, "SELECT id::text, assignee_id::text, status FROM tasks");
  int64_t differ = 0;
  for (int i = 0; i < rows.Rows(); ++i) {
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
      problems.push_back("the standby took over only after " + std::to_string(seen->takeover_s) + " s");
    }
    *words += " frozen=" + seen->frozen + " takeover_s=" + std::to_string(seen->takeover_s);
    return problems;
  };
  RunFaultCase(c);
}

}  // namespace
}  // namespace ates::test::faults
