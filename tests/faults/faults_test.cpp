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

#include "faults/fault_day.hpp"
#include "support/wait.hpp"

namespace ates::test::faults {
namespace {

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

}  // namespace
}  // namespace ates::test::faults
