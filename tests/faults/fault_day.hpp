#pragma once
// The fault suite's fixture: the real daemons on the private stack, a business
// day driven through their gRPC APIs, and the flow every case shares (start,
// load, fault, settle, reconcile, one FAULT-RESULT line).
//
// A case is a name and a fault function. The function runs on the test's main
// thread while the day runs on others (processes spawned from a thread die
// when that thread ends, so restarts of PostgreSQL, NATS or daemons belong on
// the main thread); it waits for a milestone of the day, injects its fault,
// clears it and returns:
//
//   RunFaultCase({"nats_killed", [](FaultContext& f) {
//     f.day.WaitFor(Milestone::kBurstDone);
//     f.stack.KillNats();
//     ...
//     f.stack.StartNats();
//   }});

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/daemon.hpp"
#include "support/js_client.hpp"
#include "support/test_stack.hpp"

namespace ates::test::faults {

using Seconds = std::chrono::duration<double>;

// How many daemons, and settings for all of them.
struct SystemPlan {
  int replicas = 1;                        // of ates-tasks, ates-billing and ates-analytics
  int tasks_replicas = 0;                  // of ates-tasks when not 0 (else `replicas`)
  std::map<std::string, std::string> env;  // ATES_* overrides for every daemon
  // The NATS URL (or comma-separated URLs) of the daemons and of the test's
  // own clients; "" is the stack's nats-server.
  std::string nats_url;
  // The database URL the daemons of `service` are given for `url` (e.g. the
  // same database through a PgProxy); unset: `url`. The checks use `url`.
  std::function<std::string(const std::string& service, const std::string& url)> daemon_db;
};

// The size and pace of the day.
struct DayPlan {
  int admins = 2;  // besides the bootstrap admin
  int managers = 4;
  int accountants = 6;
  int workers = 24;
  int tasks = 3000;
  int burst = 1500;  // created first, as fast as the callers can
  // Share of the tasks their assignees complete: 70 % makes fees and rewards
  // about even, so the close meets positive and negative balances alike.
  int complete_percent = 70;
  int shuffles = 2;    // by managers, racing the completions
  int callers = 8;     // concurrent gRPC callers creating tasks
  int completers = 4;  // concurrent gRPC callers completing tasks
  // The rest of the day (after the burst) is spread over at least this long,
  // so a fault injected after the burst meets the load.
  std::chrono::seconds min_rest_of_day{0};
  // How long one call is retried (UNAVAILABLE, deadlines, a daemon away).
  std::chrono::seconds call_patience{900};
  // The admin closes the day once billing has booked the day's events (or
  // after 3 minutes): a close that overtakes them books them on the next day,
  // which is correct but leaves nothing to pay out at this close.
  bool close_when_booked = true;
  // Share of CreateTask calls that carry a request_id (idempotency key).
  int request_id_percent = 100;
};

// The daemons of the system under test on the stack, each on a fixed port so
// a restarted daemon is where its callers look for it.
class System final {
 public:
  struct Member {
    std::string service;  // ates-tasks
    std::string name;     // ates-tasks-2
    std::unique_ptr<Daemon> daemon;
  };

  explicit System(SystemPlan plan);
  ~System();
  void StartAll();
  void StopAll();

  std::vector<Member>& members() { return members_; }
  std::vector<std::string> Targets(const std::string& service) const;
  const std::string& Db(const std::string& service) const { return dbs_.at(service); }
  const std::string& today() const { return today_; }
  // Where the daemons and the test's clients find NATS.
  const std::string& nats_url() const { return nats_url_; }
  // Every durable consumer of the system, as (stream, durable).
  static const std::vector<std::pair<std::string, std::string>>& Consumers();

  // Kills (SIGKILL) and starts again one member, on its port.
  void Restart(Member& m);
  // Members that exited by themselves, with their exit codes (never one that
  // Restart is bringing back).
  std::vector<std::string> Dead();

 private:
  std::mutex mu_;  // Restart vs Dead, which the day's thread calls
  SystemPlan plan_;
  std::string today_;
  std::string nats_url_;
  std::map<std::string, std::string> dbs_;  // service -> URL
  std::vector<Member> members_;
};

enum class Milestone { kBurstDone, kLoadDone, kDayClosed, kFinished };
const char* Name(Milestone m);

// Counts of what the day's callers did.
struct DayStats {
  std::atomic<int64_t> created{0};
  std::atomic<int64_t> completed{0};
  std::atomic<int64_t> lost_to_shuffle{0};  // completed by a new assignee after a shuffle
  std::atomic<int64_t> shuffles{0};
  std::atomic<int64_t> reassigned{0};
  std::atomic<int64_t> retries{0};
  std::mutex mu;
  std::map<std::string, int64_t> retry_codes;  // gRPC code name -> count
  // Answers UNAVAILABLE "... may or may not have been applied" (ADR 12), by
  // call (CreateTask, CreateTaskNoRequestId, ShuffleTasks, CompleteTask, ...).
  std::map<std::string, int64_t> commit_unknown;
  // CreateTask calls sent without a request_id that ended OK.
  std::atomic<int64_t> created_without_request_id{0};
};

// The business day, driven through the daemons' gRPC APIs on its own threads.
class Day final {
 public:
  Day(System& system, DayPlan plan, std::function<void(const std::string&)> progress);
  ~Day();

  // Creates the accounts through ates-auth and waits for the replicas. Before
  // any fault.
  void Prepare();
  void Start();
  // False when the day failed, or on timeout.
  bool WaitFor(Milestone m, std::chrono::milliseconds timeout = std::chrono::minutes(20));
  bool Reached(Milestone m);
  // Waits for the end of the day; "" or what went wrong.
  std::string Join();
  DayStats& stats() { return stats_; }
  int64_t accounts() const { return static_cast<int64_t>(people_.size()); }
  const std::string& admin_token() const { return admin_->token; }

 private:
  struct Person {
    std::string id, login, token, role;
  };
  struct Created {
    std::string id, assignee;
  };
  class Callers;

  void Run();
  void Mark(Milestone m);
  void CreateRange(int from, int to, std::chrono::steady_clock::time_point paced_from,
                   std::chrono::steady_clock::duration spread);
  void CompleteQueued();
  void ShuffleDuring(int from, int to);
  void AwaitBooked();
  void CloseDay();

  System& system_;
  DayPlan plan_;
  std::function<void(const std::string&)> progress_;
  std::unique_ptr<Callers> callers_;
  std::unique_ptr<JsClient> js_;
  std::vector<Person> people_;
  std::map<std::string, const Person*> by_id_;
  std::vector<const Person*> managers_;
  const Person* admin_ = nullptr;
  DayStats stats_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<Milestone, bool> reached_;
  bool failed_ = false;
  std::string error_;
  std::atomic<bool> abort_{false};  // the first failure stops every caller
  std::thread thread_;

  // Tasks waiting for their assignee to complete them.
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<Created> to_complete_;
  bool creating_done_ = false;
  std::atomic<int64_t> next_task_{0};
};

struct FaultContext {
  TestStack& stack;
  System& system;
  Day& day;
  JsClient& js;
  std::function<void(const std::string&)> progress;

  // Sleeps `d` in slices, printing what the consumers have left every 30 s.
  void Hold(Seconds d, const std::string& what);
  // Pauses (SIGSTOP) every ates-billing and ates-analytics until the burst
  // of creations is over, so they meet the fault with the whole burst still
  // to apply, however fast the machine. Returns the backlog then;
  // ResumeConsumers() lets them go on.
  std::string PauseConsumersDuringTheBurst();
  void ResumeConsumers();
  // What billing's and analytics' consumers have left: pending+unacked.
  std::string Backlog();
};

struct FaultCase {
  std::string name;
  std::function<void(FaultContext&)> inject;
  // Checks of the case's own once the system has settled, on the TASKS stream
  // as read for the reconciliation: returns its problems (each printed; any
  // fails the case) and may add `key=value` words to the FAULT-RESULT line.
  std::function<std::vector<std::string>(FaultContext&, const std::vector<StreamMessage>& tasks,
                                         std::string* result_words)>
      check{};
  SystemPlan system{};
  DayPlan day{};
  std::chrono::seconds settle_timeout{300};
};

// Waits until every outbox is published, every consumer caught up, the day
// closed in billing (when `closed`: the admin closed it) and every payout
// e-mail sent, twice in a row with no new message on any stream in between.
// False (and why) on timeout.
bool Settle(System& system, JsClient& js, std::chrono::seconds timeout, std::string* why,
            bool closed = true);

// The whole case: gtest failures for what does not add up, and one line
// `FAULT-RESULT case=<name> ...` on stdout.
void RunFaultCase(const FaultCase& c);

// A whole number of seconds from the environment, or `fallback`.
int EnvSeconds(const char* name, int fallback);
// The value of the first `key:` line of config/<service>.yaml in the source
// tree ("" when there is none): tells whether the daemons know a setting
// (they ignore ATES_* variables of keys they do not read) and in what format.
std::string ConfigValue(const std::string& service, const std::string& key);

}  // namespace ates::test::faults
