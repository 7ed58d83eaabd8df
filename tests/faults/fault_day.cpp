#include "faults/fault_day.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <regex>
#include <sstream>

#include "ates/analytics/v1/analytics_service.grpc.pb.h"
#include "ates/scheduler/v1/scheduler_service.grpc.pb.h"
#include "faults/reconcile.hpp"
#include "support/analytics_daemon.hpp"
#include "support/billing_helpers.hpp"
#include "support/tasks_helpers.hpp"

#ifndef ATES_SCHEDULER_BIN
#error "ATES_SCHEDULER_BIN must be defined by the build"
#endif

namespace ates::test::faults {
namespace {

namespace schedv1 = ::ates::scheduler::v1;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kServices = {"ates-auth", "ates-tasks", "ates-billing",
                                            "ates-analytics", "ates-scheduler"};

std::string UtcDate(std::chrono::system_clock::time_point t) {
  std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto day = std::chrono::floor<std::chrono::days>(secs);
  std::chrono::hh_mm_ss hms{secs - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", UtcDate(t).c_str(),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

double SecondsSince(Clock::time_point t) { return Seconds(Clock::now() - t).count(); }

std::string Fixed(double v, int digits = 1) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << v;
  return out.str();
}

// Channels that reconnect within 200 ms, so a restarted daemon is found at once.
std::shared_ptr<grpc::Channel> Channel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

// What a caller does about a failed call: the business answers are final,
// everything else (a daemon or its database away, deadlines) is retried.
bool Transient(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNIMPLEMENTED:
      return false;
    default:
      return true;  // UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNAUTHENTICATED (keys), ...
  }
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "OTHER";
  }
}

DaemonOptions SchedulerDaemon(const std::string& db, const std::string& auth_target,
                              std::map<std::string, std::string> env) {
  return SystemDaemon("ates-scheduler", "ates-scheduler", ATES_SCHEDULER_BIN, db,
                      {{"ATES_AUTH_KEYS_URL", auth_target}, {"ATES_SCHEDULE_CHECK_INTERVAL", "1s"}},
                      env);
}

int64_t Count(const std::string& db, std::string_view sql) {
  try {
    return QueryInt(db, sql);
  } catch (const std::exception&) {
    return -1;  // the database is away
  }
}

}  // namespace

// ---- System ---------------------------------------------------------------------------

System::System(SystemPlan plan) : plan_(std::move(plan)) {
  auto& stack = TestStack::Get();
  const auto start = std::chrono::system_clock::now();
  today_ = UtcDate(start);
  nats_url_ = plan_.nats_url.empty() ? stack.nats_url() : plan_.nats_url;
  for (const auto& s : kServices) dbs_[s] = stack.CreateDatabase("f_" + s.substr(5));
  const std::map<std::string, std::string> utc = {{"ATES_BUSINESS_DAY_TIME_ZONE", "UTC"}};
  const std::string auth_target = "127.0.0.1:" + std::to_string(FreePort());
  auto add = [&](const std::string& service, int replica, DaemonOptions o) {
    Member m;
    m.service = service;
    m.name = replica == 0 ? service : service + "-" + std::to_string(replica + 1);
    o.name = m.name;
    o.env["ATES_GRPC_LISTEN"] =
        service == "ates-auth" ? auth_target : "127.0.0.1:" + std::to_string(FreePort());
    o.env["ATES_NATS_URL"] = nats_url_;
    if (plan_.daemon_db) o.env["ATES_DATABASE_URL"] = plan_.daemon_db(service, dbs_.at(service));
    for (const auto& [k, v] : plan_.env) o.env[k] = v;
    m.daemon = std::make_unique<Daemon>(std::move(o));
    members_.push_back(std::move(m));
  };
  add("ates-auth", 0, AuthDaemon("ates-auth", dbs_["ates-auth"]));
  const int tasks_replicas = plan_.tasks_replicas > 0 ? plan_.tasks_replicas : plan_.replicas;
  for (int r = 0; r < tasks_replicas; ++r) {
    add("ates-tasks", r,
        TasksDaemon("ates-tasks", dbs_["ates-tasks"], auth_target, "tasks_accounts"));
  }
  for (int r = 0; r < plan_.replicas; ++r) {
    // The production duplicate window (the billing suites shorten it).
    auto env = utc;
    env["ATES_NATS_DUPLICATE_WINDOW"] = "2m";
    add("ates-billing", r,
        BillingDaemon("ates-billing", dbs_["ates-billing"], auth_target, stack.dir() + "/mail",
                      env));
  }
  for (int r = 0; r < plan_.replicas; ++r) {
    add("ates-analytics", r,
        AnalyticsDaemon("ates-analytics", dbs_["ates-analytics"], auth_target, "analytics", utc));
  }
  auto sched_env = utc;
  sched_env["ATES_SCHEDULE_FIRST_BUSINESS_DATE"] = today_;
  // The clock stands still: the scheduler closes nothing by itself; the day's
  // admin closes today by hand.
  sched_env["ATES_SCHEDULE_NOW_OVERRIDE"] = Rfc3339(start);
  // A clock that stands still drifts from PostgreSQL's by the case's length;
  // the skew guard (ADR 9) would refuse the close. The day is today either way.
  sched_env["ATES_SCHEDULE_MAX_CLOCK_SKEW"] = "1h";
  add("ates-scheduler", 0, SchedulerDaemon(dbs_["ates-scheduler"], auth_target, sched_env));
}

System::~System() { StopAll(); }

void System::StartAll() {
  for (auto& m : members_) m.daemon->Start();
}

void System::StopAll() {
  // All at once: each drains for its shutdown grace.
  std::vector<std::thread> stops;
  for (auto& m : members_) {
    if (m.daemon->Running()) {
      stops.emplace_back([d = m.daemon.get()] { d->Stop(std::chrono::seconds(10)); });
    }
  }
  for (auto& t : stops) t.join();
}

std::vector<std::string> System::Targets(const std::string& service) const {
  std::vector<std::string> out;
  for (const auto& m : members_) {
    if (m.service == service) out.push_back(m.daemon->target());
  }
  return out;
}

const std::vector<std::pair<std::string, std::string>>& System::Consumers() {
  static const std::vector<std::pair<std::string, std::string>> kConsumers = {
      {"ACCOUNTS", "tasks_accounts"},    {"ACCOUNTS", "billing_accounts"},
      {"TASKS", "billing_tasks"},        {"SCHEDULE", "billing_schedule"},
      {"TASKS", "analytics_tasks"},      {"BILLING", "analytics_billing"},
      {"SCHEDULE", "analytics_schedule"}};
  return kConsumers;
}

void System::Restart(Member& m) {
  std::lock_guard lock(mu_);
  m.daemon->Kill();
  m.daemon->Start();
}

std::vector<std::string> System::Dead() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (auto& m : members_) {
    if (m.daemon->Running()) continue;
    auto code = m.daemon->WaitExit(std::chrono::milliseconds(0));
    out.push_back(m.name + " (exit " + (code ? std::to_string(*code) : "?") + ", log " +
                  m.daemon->log_path() + ")");
  }
  return out;
}

// ---- Day ------------------------------------------------------------------------------

const char* Name(Milestone m) {
  switch (m) {
    case Milestone::kBurstDone:
      return "burst done";
    case Milestone::kLoadDone:
      return "load done";
    case Milestone::kDayClosed:
      return "day closed";
    case Milestone::kFinished:
      return "finished";
  }
  return "?";
}

class Day::Callers {
 public:
  explicit Callers(const System& s) {
    for (const auto& t : s.Targets("ates-tasks")) {
      tasks_.push_back(tasksv1::TaskService::NewStub(Channel(t)));
    }
    auth = authv1::AuthService::NewStub(Channel(s.Targets("ates-auth").at(0)));
    scheduler = schedv1::SchedulerService::NewStub(Channel(s.Targets("ates-scheduler").at(0)));
  }
  // Calls spread over the replicas of ates-tasks.
  tasksv1::TaskService::Stub& Tasks(size_t i) { return *tasks_[i % tasks_.size()]; }

  std::unique_ptr<authv1::AuthService::Stub> auth;
  std::unique_ptr<schedv1::SchedulerService::Stub> scheduler;

 private:
  std::vector<std::unique_ptr<tasksv1::TaskService::Stub>> tasks_;
};

namespace {

// Calls `fn(ClientContext&)` until it succeeds or fails for good; transient
// failures are counted by code and retried with back-off for `patience`.
template <class Fn>
grpc::Status Retry(DayStats& stats, const std::string& call, const std::atomic<bool>& abort,
                   std::chrono::seconds patience, const std::string& token,
                   std::chrono::seconds deadline, Fn&& fn) {
  const auto give_up = Clock::now() + patience;
  for (int attempt = 1;; ++attempt) {
    Call c(token, deadline);
    grpc::Status s = fn(c.ctx);
    if (s.ok() || !Transient(s.error_code())) return s;
    ++stats.retries;
    {
      std::lock_guard lock(stats.mu);
      ++stats.retry_codes[CodeName(s.error_code())];
      if (s.error_code() == grpc::StatusCode::UNAVAILABLE &&
          s.error_message().find("may or may not") != std::string::npos) {
        ++stats.commit_unknown[call];
      }
    }
    if (abort || Clock::now() >= give_up) return s;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::min(1000, 25 << std::min(attempt, 6))));
  }
}

void SleepUntil(Clock::time_point t, const std::atomic<bool>& abort) {
  while (!abort && Clock::now() < t) {
    std::this_thread::sleep_for(
        std::min<Clock::duration>(t - Clock::now(), std::chrono::milliseconds(100)));
  }
}

}  // namespace

Day::Day(System& system, DayPlan plan, std::function<void(const std::string&)> progress)
    : system_(system), plan_(std::move(plan)), progress_(std::move(progress)) {}

Day::~Day() {
  abort_ = true;
  {
    std::lock_guard lock(queue_mu_);
    creating_done_ = true;
  }
  queue_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Day::Prepare() {
  callers_ = std::make_unique<Callers>(system_);
  js_ = std::make_unique<JsClient>(system_.nats_url());
  auto& auth = *callers_->auth;
  Person admin{"", kAdminLogin, Login(auth, kAdminLogin, kAdminPassword), "admin"};
  {
    Call c(admin.token);
    authv1::ListAccountsResponse resp;
    auto s = auth.ListAccounts(&c.ctx, authv1::ListAccountsRequest(), &resp);
    if (!s.ok()) throw std::runtime_error("ListAccounts: " + Describe(s));
    for (const auto& a : resp.accounts()) {
      if (a.login() == kAdminLogin) admin.id = a.id();
    }
  }
  std::vector<std::pair<std::string, Role>> wanted;
  auto want = [&](int n, const char* prefix, Role role) {
    for (int i = 1; i <= n; ++i) wanted.emplace_back(std::string(prefix) + std::to_string(i), role);
  };
  want(plan_.admins, "fault-admin-", ROLE_ADMIN);
  want(plan_.managers, "fault-manager-", ROLE_MANAGER);
  want(plan_.accountants, "fault-accountant-", ROLE_ACCOUNTANT);
  want(plan_.workers, "fault-worker-", ROLE_WORKER);
  people_.resize(wanted.size() + 1);
  people_[0] = admin;
  // Four at a time: each login hashes a password (Argon2id).
  std::atomic<size_t> next{0};
  std::string error;
  std::mutex error_mu;
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < wanted.size(); i = next++) {
        try {
          auto p = CreatePerson(auth, admin.token, wanted[i].first, wanted[i].second);
          const char* role = wanted[i].second == ROLE_ADMIN        ? "admin"
                             : wanted[i].second == ROLE_MANAGER    ? "manager"
                             : wanted[i].second == ROLE_ACCOUNTANT ? "accountant"
                                                                   : "worker";
          people_[i + 1] = Person{p.id, p.login, p.token, role};
        } catch (const std::exception& e) {
          std::lock_guard lock(error_mu);
          if (error.empty()) error = e.what();
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  if (!error.empty()) throw std::runtime_error(error);
  for (const auto& p : people_) {
    by_id_[p.id] = &p;
    if (p.role == "manager") managers_.push_back(&p);
  }
  admin_ = &people_[0];
  // Tasks are assigned among the accounts ates-tasks knows, and billing mails
  // the accounts it knows: wait for both replicas.
  std::vector<std::string> ids;
  for (const auto& p : people_) ids.push_back(p.id);
  for (const char* service : {"ates-tasks", "ates-billing"}) {
    bool known = Eventually(
        [&] {
          return QueryInt(system_.Db(service),
                          "SELECT count(*) FROM accounts_replica WHERE id = ANY($1::uuid[])",
                          {pg::TextArray(ids)}) == static_cast<int64_t>(ids.size());
        },
        std::chrono::seconds(60), std::chrono::milliseconds(50));
    if (!known) throw std::runtime_error(std::string(service) + " never learnt every account");
  }
}

void Day::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Day::Mark(Milestone m) {
  {
    std::lock_guard lock(mu_);
    reached_[m] = true;
  }
  cv_.notify_all();
}

bool Day::Reached(Milestone m) {
  std::lock_guard lock(mu_);
  return reached_[m];
}

bool Day::WaitFor(Milestone m, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return reached_[m] || failed_; });
  return reached_[m];
}

std::string Day::Join() {
  // Bounded: every call gives up after its patience.
  if (!WaitFor(Milestone::kFinished, plan_.call_patience * 3)) {
    abort_ = true;
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  return error_;
}

void Day::Run() {
  auto& abort = abort_;
  auto fail = [&](const std::string& what) {
    {
      std::lock_guard lock(mu_);
      if (error_.empty()) error_ = what;
      failed_ = true;
    }
    abort = true;
    cv_.notify_all();
  };
  try {
    const auto t0 = Clock::now();
    std::vector<std::thread> workers;
    std::string worker_error;
    std::mutex worker_mu;
    auto guarded = [&](std::function<void()> fn) {
      return std::thread([&, fn = std::move(fn)] {
        try {
          fn();
        } catch (const std::exception& e) {
          std::lock_guard lock(worker_mu);
          if (worker_error.empty()) worker_error = e.what();
          abort = true;
          queue_cv_.notify_all();
        }
      });
    };
    auto end_creating = [&] {
      {
        std::lock_guard lock(queue_mu_);
        creating_done_ = true;
      }
      queue_cv_.notify_all();
    };
    // Assignees complete their tasks all day long; managers shuffle during
    // the rest of the day, racing them.
    workers.push_back(guarded([&] { CompleteQueued(); }));
    workers.push_back(guarded([&] { ShuffleDuring(plan_.burst, plan_.tasks); }));
    Clock::time_point t1;
    try {
      CreateRange(0, plan_.burst, t0, Clock::duration::zero());
      if (abort) throw std::runtime_error("aborted");
      progress_("load: burst of " + std::to_string(plan_.burst) + " tasks created in " +
                Fixed(SecondsSince(t0)) + " s");
      Mark(Milestone::kBurstDone);
      t1 = Clock::now();
      CreateRange(plan_.burst, plan_.tasks, t1, plan_.min_rest_of_day);
    } catch (...) {
      end_creating();
      for (auto& w : workers) w.join();
      throw;
    }
    end_creating();
    for (auto& w : workers) w.join();
    if (!worker_error.empty()) throw std::runtime_error(worker_error);
    progress_("load: " + std::to_string(stats_.created.load()) + " tasks created, " +
              std::to_string(stats_.completed.load()) + " completed (" +
              std::to_string(stats_.lost_to_shuffle.load()) +
              " by a new assignee after a shuffle), " + std::to_string(stats_.shuffles.load()) +
              " shuffles reassigned " + std::to_string(stats_.reassigned.load()) +
              ", rest of the day " + Fixed(SecondsSince(t1)) + " s");
    Mark(Milestone::kLoadDone);
    if (plan_.close_when_booked) AwaitBooked();
    CloseDay();
    Mark(Milestone::kDayClosed);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  Mark(Milestone::kFinished);
}

void Day::CreateRange(int from, int to, Clock::time_point paced_from, Clock::duration spread) {
  auto& abort = abort_;
  std::atomic<int> next{from};
  std::string error;
  std::mutex error_mu;
  std::vector<std::thread> pool;
  for (int t = 0; t < plan_.callers; ++t) {
    pool.emplace_back([&, t] {
      for (int i = next++; i < to && !abort; i = next++) {
        if (spread > Clock::duration::zero()) {
          SleepUntil(paced_from + spread * (i - from) / std::max(1, to - from), abort);
        }
        // Anyone creates tasks: every role in turn.
        const Person& creator = people_[static_cast<size_t>(i) % people_.size()];
        tasksv1::CreateTaskRequest req;
        req.set_title("Fault day task " + std::to_string(i));
        req.set_jira_id("UP-" + std::to_string(10000 + i));
        req.set_description("made by " + creator.login);
        // A retry after a lost reply must not create a second task.
        const bool keyed = i % 100 < plan_.request_id_percent;
        if (keyed) req.set_request_id("fault-day-" + std::to_string(i));
        tasksv1::CreateTaskResponse resp;
        auto s = Retry(
            stats_, keyed ? "CreateTask" : "CreateTaskNoRequestId", abort, plan_.call_patience,
            creator.token, std::chrono::seconds(10), [&](grpc::ClientContext& ctx) {
              return callers_->Tasks(static_cast<size_t>(t)).CreateTask(&ctx, req, &resp);
            });
        if (!s.ok()) {
          std::lock_guard lock(error_mu);
          if (error.empty()) error = "CreateTask " + std::to_string(i) + ": " + Describe(s);
          abort = true;
          return;
        }
        ++stats_.created;
        if (!keyed) ++stats_.created_without_request_id;
        if (i % 100 < plan_.complete_percent) {
          {
            std::lock_guard lock(queue_mu_);
            to_complete_.push_back({resp.task().id(), resp.task().assignee_id()});
          }
          queue_cv_.notify_one();
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  if (!error.empty()) throw std::runtime_error(error);
}

void Day::CompleteQueued() {
  auto& abort = abort_;
  std::string error;
  std::mutex error_mu;
  std::atomic<int64_t> taken{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < plan_.completers; ++t) {
    pool.emplace_back([&, t] {
      auto& stub = callers_->Tasks(static_cast<size_t>(t) + 1);
      auto complete = [&](const std::string& task, const std::string& token) {
        tasksv1::CompleteTaskRequest req;
        req.set_task_id(task);
        tasksv1::CompleteTaskResponse resp;
        return Retry(stats_, "CompleteTask", abort, plan_.call_patience, token,
                     std::chrono::seconds(10),
                     [&](grpc::ClientContext& ctx) { return stub.CompleteTask(&ctx, req, &resp); });
      };
      for (;;) {
        Created task;
        {
          std::unique_lock lock(queue_mu_);
          queue_cv_.wait(lock, [&] { return !to_complete_.empty() || creating_done_ || abort; });
          if (abort || to_complete_.empty()) return;
          // Not in creation order: assignees pick their tasks in any order.
          size_t pick = static_cast<size_t>(taken++ * 7919) % to_complete_.size();
          task = to_complete_[pick];
          to_complete_[pick] = to_complete_.back();
          to_complete_.pop_back();
        }
        grpc::Status s = complete(task.id, by_id_.at(task.assignee)->token);
        // A shuffle gave the task to someone else first: the new assignee
        // (looked up by the admin) completes it.
        for (int hop = 0; hop < 3 && s.error_code() == grpc::StatusCode::PERMISSION_DENIED; ++hop) {
          tasksv1::GetTaskRequest get;
          get.set_task_id(task.id);
          tasksv1::GetTaskResponse got;
          auto gs = Retry(stats_, "GetTask", abort, plan_.call_patience, admin_->token,
                          std::chrono::seconds(10),
                          [&](grpc::ClientContext& ctx) { return stub.GetTask(&ctx, get, &got); });
          if (!gs.ok()) {
            s = gs;
            break;
          }
          ++stats_.lost_to_shuffle;
          s = complete(task.id, by_id_.at(got.task().assignee_id())->token);
        }
        if (s.ok()) {
          ++stats_.completed;
          continue;
        }
        std::lock_guard lock(error_mu);
        if (error.empty()) error = "CompleteTask " + task.id + ": " + Describe(s);
        abort = true;
        queue_cv_.notify_all();
        return;
      }
    });
  }
  for (auto& th : pool) th.join();
  if (!error.empty()) throw std::runtime_error(error);
}

void Day::ShuffleDuring(int from, int to) {
  auto& abort = abort_;
  for (int k = 1; k <= plan_.shuffles && !abort; ++k) {
    const int64_t at = from + static_cast<int64_t>(to - from) * k / (plan_.shuffles + 1);
    while (!abort && stats_.created < at)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (abort) return;
    const Person& manager = *managers_.at(static_cast<size_t>(k) % managers_.size());
    tasksv1::ShuffleTasksResponse resp;
    auto s = Retry(stats_, "ShuffleTasks", abort, plan_.call_patience, manager.token,
                   std::chrono::seconds(60), [&](grpc::ClientContext& ctx) {
                     return callers_->Tasks(static_cast<size_t>(k))
                         .ShuffleTasks(&ctx, tasksv1::ShuffleTasksRequest(), &resp);
                   });
    if (!s.ok()) throw std::runtime_error("ShuffleTasks: " + Describe(s));
    ++stats_.shuffles;
    stats_.reassigned += resp.reassigned_count();
    progress_("load: shuffle " + std::to_string(k) + " by " + manager.login + " reassigned " +
              std::to_string(resp.reassigned_count()) + " open tasks");
  }
}

void Day::AwaitBooked() {
  const auto start = Clock::now();
  bool booked = Eventually(
      [&] {
        if (abort_ || !system_.Dead().empty()) return true;
        auto st = js_->Consumer("TASKS", "billing_tasks");
        return Count(system_.Db("ates-tasks"),
                     "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0 &&
               st && st->num_pending == 0 && st->num_ack_pending == 0;
      },
      std::chrono::minutes(3), std::chrono::milliseconds(100));
  auto dead = system_.Dead();
  progress_(!dead.empty() ? "load: a daemon is dead (" + dead.front() + "); the admin closes"
            : booked
                ? "load: billing booked the day's events in " + Fixed(SecondsSince(start)) + " s"
                : "load: billing still behind after 3 minutes; the admin closes anyway");
}

void Day::CloseDay() {
  auto& abort = abort_;
  schedv1::CloseBillingCycleRequest req;
  req.set_business_date(system_.today());
  schedv1::CloseBillingCycleResponse resp;
  auto s = Retry(stats_, "CloseBillingCycle", abort, plan_.call_patience, admin_->token,
                 std::chrono::seconds(10), [&](grpc::ClientContext& ctx) {
                   return callers_->scheduler->CloseBillingCycle(&ctx, req, &resp);
                 });
  if (!s.ok()) throw std::runtime_error("CloseBillingCycle: " + Describe(s));
  progress_("load: the admin closed " + system_.today() +
            (resp.newly_closed() ? "" : " (it was closed already)"));
}

// ---- FaultContext ---------------------------------------------------------------------

std::string FaultContext::Backlog() {
  std::string out;
  for (const auto& [stream, durable] :
       std::vector<std::pair<std::string, std::string>>{{"TASKS", "billing_tasks"},
                                                        {"TASKS", "analytics_tasks"},
                                                        {"BILLING", "analytics_billing"}}) {
    auto st = js.Consumer(stream, durable);
    out += (out.empty() ? "" : " ") + durable + "=";
    out += st ? std::to_string(st->num_pending) + "+" + std::to_string(st->num_ack_pending) + "/" +
                    std::to_string(st->num_redelivered)
              : std::string("?");
  }
  return out + " (pending+unacked/redelivered)";
}

std::string FaultContext::PauseConsumersDuringTheBurst() {
  for (auto& m : system.members()) {
    if (m.service == "ates-billing" || m.service == "ates-analytics") m.daemon->Signal(SIGSTOP);
  }
  progress("ates-billing and ates-analytics paused (SIGSTOP) for the burst");
  day.WaitFor(Milestone::kBurstDone, std::chrono::minutes(10));
  return Backlog();
}

void FaultContext::ResumeConsumers() {
  for (auto& m : system.members()) {
    if (m.service == "ates-billing" || m.service == "ates-analytics") m.daemon->Signal(SIGCONT);
  }
}

void FaultContext::Hold(Seconds d, const std::string& what) {
  const auto start = Clock::now();
  auto last = start;
  while (Clock::now() - start < d) {
    std::this_thread::sleep_for(std::min<Clock::duration>(
        std::chrono::duration_cast<Clock::duration>(d - (Clock::now() - start)),
        std::chrono::milliseconds(250)));
    if (Clock::now() - last >= std::chrono::seconds(30)) {
      last = Clock::now();
      progress(what + ": " + Fixed(SecondsSince(start), 0) + " of " + Fixed(d.count(), 0) +
               " s; backlog " + Backlog());
    }
  }
}

// ---- the case -------------------------------------------------------------------------

int EnvSeconds(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  try {
    return std::stoi(v);
  } catch (...) {
    throw std::invalid_argument(std::string(name) + " must be a whole number of seconds");
  }
}

std::string ConfigValue(const std::string& service, const std::string& key) {
  std::ifstream in(SourcePath("config/" + service + ".yaml"));
  std::regex line_re("^\\s*" + key + ":\\s*([^#\\s]*)");
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, line_re)) return m[1].str().empty() ? "\"\"" : m[1].str();
  }
  return "";
}

namespace {

// Outboxes empty, every consumer caught up, the day closed in billing, every
// payout e-mail sent.
bool Quiet(System& system, JsClient& js, bool closed, std::string* why) {
  for (const auto& s : kServices) {
    int64_t n = Count(system.Db(s), "SELECT count(*) FROM outbox WHERE published_at IS NULL");
    if (n != 0) {
      *why = s + " outbox " + std::to_string(n);
      return false;
    }
  }
  for (const auto& [stream, durable] : System::Consumers()) {
    auto st = js.Consumer(stream, durable);
    if (!st || st->num_pending != 0 || st->num_ack_pending != 0) {
      *why = durable +
             (st ? " " + std::to_string(st->num_pending) + "+" + std::to_string(st->num_ack_pending)
                 : std::string(" absent"));
      return false;
    }
  }
  if (closed && Count(system.Db("ates-billing"), "SELECT count(*) FROM billing_cycles") < 1) {
    *why = "billing has not closed the day";
    return false;
  }
  int64_t unsent =
      Count(system.Db("ates-billing"), "SELECT count(*) FROM payout_emails WHERE sent_at IS NULL");
  if (unsent != 0) {
    *why = "payout e-mails unsent " + std::to_string(unsent);
    return false;
  }
  return true;
}

}  // namespace

// Quiet twice, a second apart, with no new message on any stream meanwhile.
bool Settle(System& system, JsClient& js, std::chrono::seconds timeout, std::string* why,
            bool closed) {
  auto last_seqs = [&] {
    std::string s;
    for (const char* stream : {"ACCOUNTS", "TASKS", "BILLING", "SCHEDULE"}) {
      s += std::to_string(js.LastSeq(stream)) + ",";
    }
    return s;
  };
  std::string before;
  return Eventually(
      [&] {
        if (!Quiet(system, js, closed, why)) {
          before.clear();
          return false;
        }
        std::string now = last_seqs();
        bool stable = !before.empty() && now == before;
        before = now;
        if (!stable) *why = "streams still growing";
        return stable;
      },
      timeout, std::chrono::milliseconds(1000));
}

namespace {

// The last `n` lines of a log, each cut to 400 characters.
std::string LastLines(const std::string& text, size_t n) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line.substr(0, 400));
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
    out += "    " + lines[i] + "\n";
  }
  return out;
}

// Where each durable consumer stands, and the warnings and errors each daemon
// logged (by message, most frequent first): the evidence behind a result.
std::vector<std::string> Diagnose(System& system, JsClient& js) {
  std::vector<std::string> out;
  for (const auto& [stream, durable] : System::Consumers()) {
    auto st = js.Consumer(stream, durable);
    if (!st) {
      out.push_back("consumer " + durable + ": absent");
      continue;
    }
    out.push_back("consumer " + durable + ": " + stream + " last seq " +
                  std::to_string(js.LastSeq(stream)) + ", delivered up to " +
                  std::to_string(st->delivered_stream_seq) + ", ack floor " +
                  std::to_string(st->ack_floor_stream_seq) + ", redelivered " +
                  std::to_string(st->num_redelivered) + ", pending " +
                  std::to_string(st->num_pending) + "+" + std::to_string(st->num_ack_pending));
  }
  static const std::regex kLine(R"re("level":"(warning|error)".*?"msg":"([^"]*)")re");
  for (auto& m : system.members()) {
    std::map<std::string, int> counts;
    std::istringstream log(m.daemon->Log());
    std::string line;
    std::smatch match;
    while (std::getline(log, line)) {
      if (std::regex_search(line, match, kLine))
        ++counts[match[1].str() + " '" + match[2].str() + "'"];
    }
    std::vector<std::pair<int, std::string>> top;
    for (const auto& [msg, n] : counts) top.emplace_back(n, msg);
    std::sort(top.rbegin(), top.rend());
    std::string text;
    for (size_t i = 0; i < top.size() && i < 5; ++i) {
      text += (i ? ", " : "") + std::to_string(top[i].first) + " x " + top[i].second;
    }
    out.push_back("log of " + m.name +
                  " (since its last start): " + (text.empty() ? "no warnings" : text));
  }
  return out;
}

}  // namespace

void RunFaultCase(const FaultCase& c) {
  const auto t0 = Clock::now();
  auto progress = [&](const std::string& text) {
    std::cout << "[fault " << c.name << " +" << Fixed(SecondsSince(t0)) << "s] " << text
              << std::endl;
  };
  progress("case started");
  auto& stack = TestStack::Get();
  System system(c.system);
  system.StartAll();
  JsClient js(system.nats_url());
  Day day(system, c.day, progress);
  day.Prepare();
  progress(std::to_string(system.members().size()) + " daemons up, " +
           std::to_string(day.accounts()) + " accounts of every role ready");
  day.Start();
  FaultContext ctx{stack, system, day, js, progress};
  try {
    c.inject(ctx);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the fault function failed: " << e.what();
    for (auto& m : system.members()) m.daemon->Signal(SIGCONT);
    if (stack.postgres_frozen()) stack.ThawPostgres();
    if (!stack.postgres_running()) stack.StartPostgres();
    if (!stack.nats_running()) stack.StartNats();
  }
  const std::string day_error = day.Join();
  EXPECT_EQ(day_error, "") << "the day's callers gave up";
  {
    std::lock_guard lock(day.stats().mu);
    std::string codes;
    for (const auto& [code, n] : day.stats().retry_codes) {
      codes += " " + code + "=" + std::to_string(n);
    }
    std::string unknown;
    for (const auto& [call, n] : day.stats().commit_unknown) {
      unknown += " " + call + "=" + std::to_string(n);
    }
    progress("day over: " + std::to_string(day.stats().retries.load()) + " calls retried" +
             (codes.empty() ? "" : " (" + codes.substr(1) + ")") +
             "; answered 'may or may not have been applied': " +
             (unknown.empty() ? "none" : unknown.substr(1)));
  }
  // A daemon must ride out a fault of PostgreSQL or NATS, not exit.
  auto dead = system.Dead();
  for (const auto& d : dead) ADD_FAILURE() << "daemon exited during the case: " << d;
  for (auto& m : system.members()) {
    if (!m.daemon->Running()) {
      progress(m.name + " is dead; the last lines of its log:\n" + LastLines(m.daemon->Log(), 12) +
               "restarting " + m.name + " so the system can settle");
      system.Restart(m);
    }
  }
  const auto settle_start = Clock::now();
  std::string why;
  bool settled = Settle(system, js, c.settle_timeout, &why, day.Reached(Milestone::kDayClosed));
  progress(settled ? "settled in " + Fixed(SecondsSince(settle_start)) + " s"
                   : "NOT settled after " + Fixed(SecondsSince(settle_start)) + " s: " + why);
  EXPECT_TRUE(settled) << "the system did not settle: " << why;

  ReconcileInput input{js.Read("TASKS"), system.Db("ates-tasks"), system.Db("ates-billing"),
                       system.Db("ates-analytics")};
  Reconciliation r = Reconcile(input);
  std::vector<std::string> case_problems;
  std::string case_words;
  if (c.check) {
    case_problems = c.check(ctx, input.tasks_stream, &case_words);
    for (const auto& p : case_problems) ADD_FAILURE() << c.name << ": " << p;
  }

  // Analytics' API agrees with billing's about the day.
  int api_diffs = 0;
  {
    auto billing = billv1::BillingService::NewStub(Channel(system.Targets("ates-billing")[0]));
    auto analytics = anv1::AnalyticsService::NewStub(Channel(system.Targets("ates-analytics")[0]));
    Call bc(day.admin_token());
    billv1::GetManagementEarningsRequest breq;
    breq.set_from_date(system.today());
    breq.set_to_date(system.today());
    billv1::GetManagementEarningsResponse bresp;
    auto bs = billing->GetManagementEarnings(&bc.ctx, breq, &bresp);
    Call ac(day.admin_token());
    anv1::GetDailySummaryRequest areq;
    areq.set_business_date(system.today());
    anv1::GetDailySummaryResponse aresp;
    auto as = analytics->GetDailySummary(&ac.ctx, areq, &aresp);
    EXPECT_TRUE(bs.ok()) << Describe(bs);
    EXPECT_TRUE(as.ok()) << Describe(as);
    if (bs.ok() && as.ok() && bresp.days_size() == 1) {
      const auto& b = bresp.days(0);
      api_diffs += aresp.fees_charged_cents() != b.fees_charged_cents();
      api_diffs += aresp.rewards_paid_cents() != b.rewards_paid_cents();
      api_diffs += aresp.earnings_cents() != b.earnings_cents();
      EXPECT_EQ(aresp.fees_charged_cents(), b.fees_charged_cents());
      EXPECT_EQ(aresp.rewards_paid_cents(), b.rewards_paid_cents());
      EXPECT_EQ(aresp.earnings_cents(), b.earnings_cents());
    } else {
      ++api_diffs;
    }
  }

  const bool pass = !::testing::Test::HasFailure() && r.Clean() && api_diffs == 0;
  std::ostringstream line;
  line << "FAULT-RESULT case=" << c.name << " result=" << (pass ? "PASS" : "FAIL")
       << " wall_s=" << Fixed(SecondsSince(t0)) << " accounts=" << day.accounts()
       << " tasks_created=" << day.stats().created.load()
       << " completions=" << day.stats().completed.load()
       << " shuffled=" << day.stats().reassigned.load() << " " << r.Summary()
       << " analytics_api_diffs=" << api_diffs << " settled=" << (settled ? "yes" : "no");
  if (c.check) line << " case_problems=" << case_problems.size() << case_words;
  std::cout << line.str() << std::endl;
  // `make test` shows these lines even when every case passed (ctest keeps a
  // passing test's output to itself).
  if (const char* results = std::getenv("ATES_FAULT_RESULTS")) {
    std::ofstream(results, std::ios::app) << line.str() << "\n";
  }
  for (const auto& p : r.problems) std::cout << "  " << p << "\n";
  for (size_t i = 0; i < case_problems.size() && i < 20; ++i) {
    std::cout << "  case: " << case_problems[i] << "\n";
  }
  for (const auto& d : Diagnose(system, js)) std::cout << "  " << d << "\n";
  std::cout << std::flush;

  EXPECT_EQ(r.missing, 0) << "events without their posting in billing's ledger";
  EXPECT_EQ(r.doubled, 0) << "events posted more than once";
  EXPECT_TRUE(r.Clean()) << r.Summary();
  EXPECT_GE(day.stats().created.load(), c.day.tasks);
  system.StopAll();
}

}  // namespace ates::test::faults
