// A whole business day, end to end: the five real daemons over real gRPC on a
// private PostgreSQL and nats-server. An admin creates a manager, an
// accountant and workers; they create tasks; the manager shuffles; assignees
// complete some tasks; the manager shuffles again; the admin closes the day.
// Then every balance, audit log, payout, payout e-mail, management earnings
// figure and analytics figure must equal what is computed here by hand from
// billing's task prices (billing.task.priced on BILLING) and the TASKS events,
// and the idle system must have empty outboxes and no dead letters.
//
// The same stack also serves: analytics refused to workers and accountants,
// atesctl (login, tasks list in table and json, exit code 4), and /metrics of
// every daemon as valid Prometheus text.
//
// "Today" is the real UTC date when the suite starts (ates-tasks stamps events
// with the real clock); the scheduler's clock is frozen on that instant
// (schedule.now_override), so it closes nothing by itself and the admin closes
// "today" by hand. Every expectation is computed from the events' own times,
// so a run that crosses midnight still adds up (later postings belong to the
// next, still open day).
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "ates/scheduler/v1/scheduler_service.grpc.pb.h"
#include "support/analytics_daemon.hpp"
#include "support/billing_helpers.hpp"
#include "support/e2e_support.hpp"
#include "support/tasks_helpers.hpp"

#ifndef ATES_SCHEDULER_BIN
#error "ATES_SCHEDULER_BIN must be defined by the build"
#endif
#ifndef ATESCTL_BIN
#error "ATESCTL_BIN must be defined by the build"
#endif

namespace ates::test {
namespace {

namespace fs = std::filesystem;
namespace schedv1 = ::ates::scheduler::v1;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kTimeZone = "UTC";
constexpr const char* kPassword = "popug-pass-1";  // NewAccountRequest's default

std::string AdminListen() { return "127.0.0.1:" + std::to_string(FreePort()); }

DaemonOptions SchedulerDaemon(const std::string& db, const std::string& auth_target,
                              std::map<std::string, std::string> env) {
  return SystemDaemon("ates-scheduler", "ates-scheduler", ATES_SCHEDULER_BIN, db,
                      // The clock stands still while the day's run takes minutes.
                      {{"ATES_AUTH_KEYS_URL", auth_target},
                       {"ATES_SCHEDULE_CHECK_INTERVAL", "1s"},
                       {"ATES_SCHEDULE_MAX_CLOCK_SKEW", "1h"}},
                      env);
}

// One posting billing must make, from one TASKS event.
struct Posting {
  std::string event_id;
  std::string kind;  // assign_fee | completion_reward
  std::string account_id;
  std::string task_id;
  int64_t amount = 0;  // signed, from the account's side
  std::string date;    // UTC date of the event's time
};

struct Completion {
  std::string task_id;
  int64_t reward = 0;
  int64_t completed_us = 0;
  std::string date;
};

// Everything computed by hand from the TASKS and BILLING streams.
struct HandModel {
  std::map<std::string, std::pair<int64_t, int64_t>> prices;             // task -> fee, reward
  std::map<std::string, std::pair<std::string, std::string>> described;  // task -> title, jira
  std::vector<Posting> postings;
  std::vector<Completion> completions;
  std::map<std::string, int64_t> due_at_close;  // account -> sum of postings <= today
  std::map<std::string, int64_t> total;         // account -> sum of all postings
  std::map<std::string, int64_t> payout;        // account -> payout (positive dues only)
  std::map<std::string, std::pair<int64_t, int64_t>> day_fees_rewards;  // date -> fees, rewards
  int assigned_events = 0;
  int completed_events = 0;

  int64_t Balance(const std::string& account) const {
    auto t = total.find(account);
    auto p = payout.find(account);
    return (t == total.end() ? 0 : t->second) - (p == payout.end() ? 0 : p->second);
  }
};

class BusinessDayTest : public ::testing::Test {
 protected:
  // ---- the day ---------------------------------------------------------------------

  static void SetUpTestSuite() {
    try {
      RunTheDay();
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }

  static void TearDownTestSuite() {
    for (auto* d : {scheduler_, analytics_, billing_, tasks_, auth_}) {
      if (d != nullptr && d->Running()) d->Stop();
    }
    delete scheduler_;
    delete analytics_;
    delete billing_;
    delete tasks_;
    delete auth_;
    delete js_;
    scheduler_ = analytics_ = billing_ = tasks_ = auth_ = nullptr;
    js_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static Daemon* StartDaemon(DaemonOptions o, std::map<std::string, std::string>* admin_of) {
    std::string admin = AdminListen();
    o.env["ATES_ADMIN_LISTEN"] = admin;
    std::string name = o.name;
    auto* d = new Daemon(std::move(o));
    d->Start();
    (*admin_of)[name] = admin;
    return d;
  }

  static void RunTheDay() {
    auto& stack = TestStack::Get();
    const auto start = std::chrono::system_clock::now();
    today_ = e2e::UtcDate(start);
    js_ = new JsClient(stack.nats_url());
    dbs_["ates-auth"] = stack.CreateDatabase("e2e_auth");
    dbs_["ates-tasks"] = stack.CreateDatabase("e2e_tasks");
    dbs_["ates-billing"] = stack.CreateDatabase("e2e_billing");
    dbs_["ates-analytics"] = stack.CreateDatabase("e2e_analytics");
    dbs_["ates-scheduler"] = stack.CreateDatabase("e2e_scheduler");
    mail_dir_ = stack.dir() + "/e2e-mail";
    const std::map<std::string, std::string> tz = {{"ATES_BUSINESS_DAY_TIME_ZONE", kTimeZone}};

    auth_ = StartDaemon(AuthDaemon("ates-auth", dbs_["ates-auth"]), &admin_listen_);
    auto auth_stub = authv1::AuthService::NewStub(auth_->channel());
    tasks_ = StartDaemon(
        TasksDaemon("ates-tasks", dbs_["ates-tasks"], auth_->target(), "tasks_accounts"),
        &admin_listen_);
    billing_ = StartDaemon(
        BillingDaemon("ates-billing", dbs_["ates-billing"], auth_->target(), mail_dir_, tz),
        &admin_listen_);
    analytics_ = StartDaemon(
        AnalyticsDaemon("ates-analytics", dbs_["ates-analytics"], auth_->target(), "analytics", tz),
        &admin_listen_);
    auto sched_env = tz;
    sched_env["ATES_SCHEDULE_FIRST_BUSINESS_DATE"] = today_;
    sched_env["ATES_SCHEDULE_NOW_OVERRIDE"] = e2e::Rfc3339Utc(start);
    scheduler_ = StartDaemon(SchedulerDaemon(dbs_["ates-scheduler"], auth_->target(), sched_env),
                             &admin_listen_);

    // The people of the day.
    admin_ = Person{"", kAdminLogin, Login(*auth_stub, kAdminLogin, kAdminPassword)};
    {
      Call c(admin_.token);
      authv1::ListAccountsRequest req;
      authv1::ListAccountsResponse resp;
      auto s = auth_stub->ListAccounts(&c.ctx, req, &resp);
      if (!s.ok()) throw std::runtime_error("ListAccounts: " + Describe(s));
      for (const auto& a : resp.accounts()) {
        if (a.login() == kAdminLogin) admin_.id = a.id();
      }
    }
    manager_ = CreatePerson(*auth_stub, admin_.token, "e2e-manager", ROLE_MANAGER);
    accountant_ = CreatePerson(*auth_stub, admin_.token, "e2e-accountant", ROLE_ACCOUNTANT);
    for (int i = 1; i <= 4; ++i) {
      workers_.push_back(
          CreatePerson(*auth_stub, admin_.token, "e2e-worker-" + std::to_string(i), ROLE_WORKER));
    }
    for (const auto* p : Everyone()) people_[p->id] = *p;
    // Assignment is among the accounts ates-tasks knows: wait for all of them.
    std::vector<std::string> ids;
    for (const auto& [id, p] : people_) ids.push_back(id);
    if (!Eventually(
            [&] {
              return QueryInt(dbs_["ates-tasks"],
                              "SELECT count(*) FROM accounts_replica WHERE id = ANY($1::uuid[])",
                              {pg::TextArray(ids)}) == static_cast<int64_t>(ids.size());
            },
            30s)) {
      throw std::runtime_error("ates-tasks never learnt every account");
    }

    auto tasks = tasksv1::TaskService::NewStub(tasks_->channel());
    // Workers (and the accountant and the manager: anyone) create tasks.
    std::vector<const Person*> creators;
    for (const auto& w : workers_) creators.push_back(&w);
    creators.push_back(&accountant_);
    creators.push_back(&manager_);
    for (const auto* p : creators) {
      for (int k = 0; k < 2; ++k) CreateTask(*tasks, *p);
    }
    // The manager shuffles; assignees complete two tasks in three; the
    // manager shuffles what is still open.
    shuffled_ += Shuffle(*tasks, manager_.token);
    auto assignees = Assignees(*tasks);
    for (size_t i = 0; i < task_ids_.size(); ++i) {
      if (i % 3 != 2) Complete(*tasks, task_ids_[i], assignees.at(task_ids_[i]));
    }
    shuffled_ += Shuffle(*tasks, manager_.token);
    // More work: new tasks that their assignees complete at once (a fee and a
    // reward each), until somebody has earned money today (a day without a
    // payout would leave the payout checks empty).
    for (int round = 0; round < 25; ++round) {
      AwaitBilling();
      if (round >= 5 && QueryInt(dbs_["ates-billing"],
                                 "SELECT count(*) FROM balances WHERE balance_cents > 0"
                                 " AND account_id <> $1::uuid",
                                 {pg::Text(kCompanyAccount)}) > 0) {
        break;
      }
      auto t = CreateTask(*tasks, *creators[static_cast<size_t>(round) % creators.size()]);
      Complete(*tasks, t.id(), t.assignee_id());
    }
    AwaitBilling();
    if (!BillingQuiet(*js_, dbs_["ates-billing"])) throw std::runtime_error("billing not quiet");

    // The admin closes the day.
    auto sched = schedv1::SchedulerService::NewStub(scheduler_->channel());
    Call c(admin_.token);
    schedv1::CloseBillingCycleRequest req;
    req.set_business_date(today_);
    schedv1::CloseBillingCycleResponse resp;
    auto s = sched->CloseBillingCycle(&c.ctx, req, &resp);
    if (!s.ok()) throw std::runtime_error("CloseBillingCycle: " + Describe(s));
    if (!resp.newly_closed()) throw std::runtime_error("the day was closed before");

    // The close reaches billing, the payouts go out, and analytics sees it all.
    if (!Eventually(
            [&] {
              return QueryInt(dbs_["ates-billing"],
                              "SELECT count(*) FROM billing_cycles WHERE business_date = $1::date",
                              {pg::Text(today_)}) == 1;
            },
            30s)) {
      throw std::runtime_error("billing never closed " + today_);
    }
    if (!SystemIdle(30s)) throw std::runtime_error("the system never became idle");
    model_ = new HandModel(ComputeByHand());
    int64_t negative = 0;
    for (const auto& [account, due] : model_->due_at_close) negative += due < 0;
    std::cout << "[ INFO ] the day " << today_ << ": " << task_ids_.size() << " tasks, "
              << model_->assigned_events << " assignments (" << shuffled_ << " by shuffles), "
              << model_->completed_events << " completions, " << model_->payout.size()
              << " payouts, " << negative << " negative balances\n";
  }

  static tasksv1::Task CreateTask(tasksv1::TaskService::Stub& stub, const Person& p) {
    const int n = static_cast<int>(task_ids_.size()) + 1;
    Call c(p.token);
    tasksv1::CreateTaskRequest req;
    req.set_title("Polish beak number " + std::to_string(n));
    req.set_jira_id("UP-" + std::to_string(100 + n));
    req.set_description("made by " + p.login);
    tasksv1::CreateTaskResponse resp;
    auto s = stub.CreateTask(&c.ctx, req, &resp);
    if (!s.ok()) throw std::runtime_error("CreateTask: " + Describe(s));
    task_ids_.push_back(resp.task().id());
    return resp.task();
  }

  // The assignee completes the task.
  static void Complete(tasksv1::TaskService::Stub& stub, const std::string& task,
                       const std::string& assignee) {
    const auto& who = people_.at(assignee);
    Call c(who.token);
    tasksv1::CompleteTaskRequest req;
    req.set_task_id(task);
    tasksv1::CompleteTaskResponse resp;
    auto s = stub.CompleteTask(&c.ctx, req, &resp);
    if (!s.ok()) throw std::runtime_error("CompleteTask by " + who.login + ": " + Describe(s));
    completed_ids_.insert(task);
  }

  // Waits until billing has posted every fee and reward made so far.
  static void AwaitBilling() {
    if (!Eventually([&] { return Unpublished("ates-tasks") == 0; }, 30s)) {
      throw std::runtime_error("ates-tasks never published its outbox");
    }
    const int64_t postings = static_cast<int64_t>(task_ids_.size()) + shuffled_ +
                             static_cast<int64_t>(completed_ids_.size());
    if (!Eventually(
            [&] {
              return QueryInt(dbs_["ates-billing"],
                              "SELECT count(*) FROM transactions WHERE kind <> 'payout'") ==
                     postings;
            },
            30s, 10ms)) {
      throw std::runtime_error("billing never posted all " + std::to_string(postings) +
                               " fees and rewards");
    }
  }

  static std::vector<const Person*> Everyone() {
    std::vector<const Person*> all = {&admin_, &manager_, &accountant_};
    for (const auto& w : workers_) all.push_back(&w);
    return all;
  }

  static int64_t Shuffle(tasksv1::TaskService::Stub& stub, const std::string& token) {
    Call c(token, 30s);
    tasksv1::ShuffleTasksResponse resp;
    auto s = stub.ShuffleTasks(&c.ctx, tasksv1::ShuffleTasksRequest(), &resp);
    if (!s.ok()) throw std::runtime_error("ShuffleTasks: " + Describe(s));
    return resp.reassigned_count();
  }

  // task -> current assignee, from the admin's view of every task.
  static std::map<std::string, std::string> Assignees(tasksv1::TaskService::Stub& stub) {
    std::map<std::string, std::string> out;
    tasksv1::ListTasksRequest req;
    for (int guard = 0; guard < 100; ++guard) {
      Call c(admin_.token);
      tasksv1::ListTasksResponse resp;
      auto s = stub.ListTasks(&c.ctx, req, &resp);
      if (!s.ok()) throw std::runtime_error("ListTasks: " + Describe(s));
      for (const auto& t : resp.tasks()) out[t.id()] = t.assignee_id();
      if (resp.next_page_token().empty()) break;
      req.set_page_token(resp.next_page_token());
    }
    return out;
  }

  static int64_t Unpublished(const std::string& daemon) {
    return QueryInt(dbs_.at(daemon), "SELECT count(*) FROM outbox WHERE published_at IS NULL");
  }

  // Every outbox published, every consumer of every daemon caught up, every
  // payout e-mail sent.
  static bool SystemIdle(std::chrono::milliseconds timeout) {
    return Eventually(
        [&] {
          for (const auto& [daemon, db] : dbs_) {
            if (Unpublished(daemon) != 0) return false;
          }
          static const std::vector<std::pair<std::string, std::string>> kConsumers = {
              {"ACCOUNTS", "tasks_accounts"},    {"ACCOUNTS", "billing_accounts"},
              {"TASKS", "billing_tasks"},        {"SCHEDULE", "billing_schedule"},
              {"TASKS", "analytics_tasks"},      {"BILLING", "analytics_billing"},
              {"SCHEDULE", "analytics_schedule"}};
          for (const auto& [stream, durable] : kConsumers) {
            if (!ConsumerIdle(*js_, stream, durable)) return false;
          }
          return QueryInt(dbs_.at("ates-billing"),
                          "SELECT count(*) FROM payout_emails WHERE sent_at IS NULL") == 0;
        },
        timeout, 50ms);
  }

  // ---- the hand computation ------------------------------------------------------------

  static HandModel ComputeByHand() {
    HandModel m;
    for (const auto& msg : js_->Read("BILLING")) {
      if (msg.subject != "billing.task.priced") continue;
      bev1::TaskPriced p;
      if (!p.ParseFromString(msg.data)) throw std::runtime_error("bad billing.task.priced");
      if (m.prices.count(p.task_id())) throw std::runtime_error("task priced twice");
      m.prices[p.task_id()] = {p.assign_fee_cents(), p.completion_reward_cents()};
    }
    for (const auto& msg : js_->Read("TASKS")) {
      auto e = DecodeTaskEvent(msg);
      if (e.kind == "created") {
        m.described[e.task_id] = {e.created.title(), e.created.jira_id()};
        continue;
      }
      if (e.kind != "assigned" && e.kind != "completed") {
        throw std::runtime_error("unexpected TASKS message " + msg.subject);
      }
      const auto& price = m.prices.at(e.task_id);
      Posting p;
      p.event_id = msg.Header(events::kHeaderMsgId);
      p.task_id = e.task_id;
      if (e.kind == "assigned") {
        ++m.assigned_events;
        p.kind = "assign_fee";
        p.account_id = e.assigned.assignee_id();
        p.amount = -price.first;
        p.date = e2e::UtcDateOfSeconds(e.assigned.assigned_at().seconds());
        m.day_fees_rewards[p.date].first += price.first;
      } else {
        ++m.completed_events;
        p.kind = "completion_reward";
        p.account_id = e.completed.assignee_id();
        p.amount = price.second;
        p.date = e2e::UtcDateOfSeconds(e.completed.completed_at().seconds());
        m.day_fees_rewards[p.date].second += price.second;
        m.completions.push_back(
            {e.task_id, price.second, Micros(e.completed.completed_at()), p.date});
      }
      m.total[p.account_id] += p.amount;
      if (p.date <= today_) m.due_at_close[p.account_id] += p.amount;
      m.postings.push_back(p);
    }
    for (const auto& [account, due] : m.due_at_close) {
      if (due > 0) m.payout[account] = due;
    }
    return m;
  }

  // The completed task with the highest reward in [from, to] (ties: earliest
  // completion, then id), or nullopt.
  static std::optional<Completion> MostExpensive(const std::string& from, const std::string& to) {
    std::optional<Completion> best;
    for (const auto& c : model_->completions) {
      if (c.date < from || c.date > to) continue;
      if (!best || c.reward > best->reward ||
          (c.reward == best->reward &&
           (c.completed_us < best->completed_us ||
            (c.completed_us == best->completed_us && c.task_id < best->task_id)))) {
        best = c;
      }
    }
    return best;
  }

  std::string Tomorrow() const { return e2e::ShiftDate(today_, 1); }

  // ---- atesctl -------------------------------------------------------------------------

  // A fresh folder for one atesctl test (HOME, token files).
  static std::string CtlDir() {
    static int counter = 0;
    std::string dir = TestStack::Get().dir() + "/atesctl-" + std::to_string(++counter);
    fs::create_directories(dir);
    return dir;
  }

  static e2e::CliResult Ctl(const std::string& dir, const std::string& token_file,
                            std::vector<std::string> args, const std::string& stdin_text = "") {
    std::vector<std::string> argv = {ATESCTL_BIN,
                                     "--auth",
                                     auth_->target(),
                                     "--tasks",
                                     tasks_->target(),
                                     "--billing",
                                     billing_->target(),
                                     "--analytics",
                                     analytics_->target(),
                                     "--scheduler",
                                     scheduler_->target(),
                                     "--token-file",
                                     token_file};
    for (auto& a : args) argv.push_back(std::move(a));
    return e2e::RunCli(argv, stdin_text,
                       {{"HOME", dir}, {"XDG_CONFIG_HOME", dir + "/config"}, {"NO_COLOR", "1"}});
  }

  static std::string Show(const e2e::CliResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
  }

  // ---- suite state --------------------------------------------------------------------

  static inline std::string* setup_error_ = nullptr;
  static inline std::string today_;
  static inline JsClient* js_ = nullptr;
  static inline Daemon *auth_ = nullptr, *tasks_ = nullptr, *billing_ = nullptr,
                       *analytics_ = nullptr, *scheduler_ = nullptr;
  static inline std::map<std::string, std::string> dbs_;           // daemon -> database URL
  static inline std::map<std::string, std::string> admin_listen_;  // daemon -> /metrics address
  static inline std::string mail_dir_;
  static inline Person admin_, manager_, accountant_;
  static inline std::vector<Person> workers_;
  static inline std::map<std::string, Person> people_;  // id -> person
  static inline std::vector<std::string> task_ids_;
  static inline std::set<std::string> completed_ids_;
  static inline int64_t shuffled_ = 0;
  static inline HandModel* model_ = nullptr;
};

// ---- the day adds up ---------------------------------------------------------------------

TEST_F(BusinessDayTest, EveryAssignmentAndCompletionIsOneEventAndEveryTaskIsPricedOnce) {
  EXPECT_EQ(model_->assigned_events, static_cast<int>(task_ids_.size() + shuffled_))
      << "one tasks.task.assigned per creation and per reassignment of a shuffle";
  EXPECT_GT(shuffled_, 0);
  EXPECT_EQ(model_->completed_events, static_cast<int>(completed_ids_.size()));
  EXPECT_EQ(model_->prices.size(), task_ids_.size());
  auto db = Query(dbs_["ates-billing"],
                  "SELECT task_id::text, assign_fee_cents, completion_reward_cents, title, jira_id"
                  " FROM task_prices");
  ASSERT_EQ(db.Rows(), static_cast<int>(task_ids_.size()));
  for (int i = 0; i < db.Rows(); ++i) {
    auto it = model_->prices.find(db.String(i, 0));
    ASSERT_NE(it, model_->prices.end()) << db.String(i, 0);
    EXPECT_EQ(db.Int(i, 1), it->second.first);
    EXPECT_EQ(db.Int(i, 2), it->second.second);
    EXPECT_GE(it->second.first, 1000);
    EXPECT_LE(it->second.first, 2000);
    EXPECT_GE(it->second.second, 2000);
    EXPECT_LE(it->second.second, 4000);
    EXPECT_EQ(db.String(i, 3), model_->described.at(db.String(i, 0)).first);
    EXPECT_EQ(db.String(i, 4), model_->described.at(db.String(i, 0)).second);
  }
  // Only workers and the accountant are ever assigned.
  for (const auto& p : model_->postings) {
    EXPECT_TRUE(p.account_id != admin_.id && p.account_id != manager_.id)
        << p.kind << " for " << people_.at(p.account_id).login;
  }
  // Billing's own invariants: double entry, balances = entries, one event per row.
  LedgerModel ledger;
  for (const auto& p : model_->postings) {
    ledger.Add({p.event_id, p.kind, p.account_id, p.task_id, p.date});
  }
  auto stub = billv1::BillingService::NewStub(billing_->channel());
  StreamCache billing_events(*js_, "BILLING");
  CheckLedgerInvariants(dbs_["ates-billing"], ledger, *stub, accountant_.token, billing_events);
}

TEST_F(BusinessDayTest, EveryBalanceIsWhatIsLeftAfterThePayout) {
  auto stub = billv1::BillingService::NewStub(billing_->channel());
  for (const auto* p : Everyone()) {
    const int64_t want = model_->Balance(p->id);
    EXPECT_EQ(BalanceOf(*stub, admin_.token, p->id), want) << p->login << " (as admin)";
    EXPECT_EQ(BalanceOf(*stub, accountant_.token, p->id), want) << p->login << " (as accountant)";
    if (model_->due_at_close.count(p->id) &&
        model_->total.at(p->id) == model_->due_at_close.at(p->id)) {
      EXPECT_LE(want, 0) << p->login << ": a positive balance of the closed day was not paid out";
    }
  }
  for (const auto& w : workers_) {  // a worker sees their own balance
    EXPECT_EQ(BalanceOf(*stub, w.token, ""), model_->Balance(w.id)) << w.login;
  }
  int negative = 0;
  for (const auto* p : Everyone()) negative += model_->Balance(p->id) < 0;
  RecordProperty("negative_balances", negative);
}

TEST_F(BusinessDayTest, EveryAuditLogHasOneFeePerAssignmentOneRewardPerCompletionAndThePayout) {
  auto stub = billv1::BillingService::NewStub(billing_->channel());
  for (const auto* p : Everyone()) {
    // tuple: id, kind, amount, task, date
    std::multiset<std::tuple<std::string, std::string, int64_t, std::string, std::string>> want,
        got;
    int fees = 0, rewards = 0;
    for (const auto& post : model_->postings) {
      if (post.account_id != p->id) continue;
      want.insert({post.event_id, post.kind, post.amount, post.task_id, post.date});
      (post.kind == "assign_fee" ? fees : rewards)++;
    }
    int64_t paid = model_->payout.count(p->id) ? model_->payout.at(p->id) : 0;
    std::string payout_id;
    for (const auto& t : AllTransactions(*stub, admin_.token, p->id, today_, Tomorrow(), 7)) {
      EXPECT_EQ(t.account_id(), p->id);
      if (t.kind() == billv1::TRANSACTION_KIND_PAYOUT) {
        EXPECT_TRUE(payout_id.empty()) << p->login << " has two payouts";
        payout_id = t.id();
        EXPECT_EQ(t.amount_cents(), -paid) << p->login;
        EXPECT_EQ(t.business_date(), today_);
        EXPECT_TRUE(t.task_id().empty());
        continue;
      }
      std::string kind = t.kind() == billv1::TRANSACTION_KIND_ASSIGN_FEE ? "assign_fee"
                         : t.kind() == billv1::TRANSACTION_KIND_COMPLETION_REWARD
                             ? "completion_reward"
                             : "?";
      got.insert({t.id(), kind, t.amount_cents(), t.task_id(), t.business_date()});
      // The audit log names the task.
      const auto& d = model_->described.at(t.task_id());
      EXPECT_EQ(t.task_title(), d.first);
      EXPECT_EQ(t.task_jira_id(), d.second);
    }
    EXPECT_EQ(got, want) << p->login << ": " << fees << " fees and " << rewards
                         << " rewards expected";
    EXPECT_EQ(payout_id.empty(), paid == 0) << p->login << " due " << paid;
  }
  // A worker reads their own audit log, with the same content.
  const auto& w = workers_.front();
  auto as_admin = AllTransactions(*stub, admin_.token, w.id, today_, Tomorrow());
  auto as_self = AllTransactions(*stub, w.token, "", today_, Tomorrow());
  ASSERT_EQ(as_self.size(), as_admin.size());
  for (size_t i = 0; i < as_self.size(); ++i) {
    EXPECT_EQ(as_self[i].SerializeAsString(), as_admin[i].SerializeAsString());
  }
}

TEST_F(BusinessDayTest, PayoutsAreExactlyThePositiveBalancesAndEachHasOneEmail) {
  auto stub = billv1::BillingService::NewStub(billing_->channel());
  std::map<std::string, billv1::Payout> payouts;  // account -> payout
  std::string page;
  for (int guard = 0; guard < 100; ++guard) {
    Call c(accountant_.token);
    billv1::ListPayoutsRequest req;
    req.set_account_id("*");
    req.set_from_date(today_);
    req.set_to_date(Tomorrow());
    req.set_page_size(2);
    req.set_page_token(page);
    billv1::ListPayoutsResponse resp;
    auto s = stub->ListPayouts(&c.ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << Describe(s);
    for (const auto& p : resp.payouts()) {
      EXPECT_TRUE(payouts.emplace(p.account_id(), p).second)
          << "two payouts for " << p.account_id();
    }
    page = resp.next_page_token();
    if (page.empty()) break;
  }
  std::map<std::string, int64_t> got;
  for (const auto& [account, p] : payouts) {
    got[account] = p.amount_cents();
    EXPECT_EQ(p.business_date(), today_);
    EXPECT_TRUE(p.email_sent()) << account;
  }
  EXPECT_EQ(got, model_->payout);
  bool all_today = std::all_of(model_->postings.begin(), model_->postings.end(),
                               [](const Posting& p) { return p.date == today_; });
  if (all_today) {  // (a run across midnight may leave the earnings to the next day)
    EXPECT_FALSE(model_->payout.empty()) << "nobody earned anything: a weak day";
  }

  // One payout-<id>.eml per payout, with the amount, to the account's address.
  std::set<std::string> files;
  if (fs::exists(mail_dir_)) {
    for (const auto& entry : fs::directory_iterator(mail_dir_)) {
      files.insert(entry.path().filename().string());
    }
  }
  std::set<std::string> want_files;
  for (const auto& [account, p] : payouts) {
    std::string name = "payout-" + p.id() + ".eml";
    want_files.insert(name);
    if (!files.count(name)) continue;
    std::string mail = ReadFile(mail_dir_ + "/" + name);
    EXPECT_THAT(mail, HasSubstr("$" + Dollars(p.amount_cents()))) << name;
    EXPECT_THAT(mail, HasSubstr(people_.at(account).login + "@example.com")) << name;
    EXPECT_THAT(mail, HasSubstr(today_)) << name;
  }
  EXPECT_EQ(files, want_files);
}

TEST_F(BusinessDayTest, ManagementEarningsAreFeesMinusRewardsOfTheDay) {
  auto stub = billv1::BillingService::NewStub(billing_->channel());
  for (const std::string* token : {&admin_.token, &accountant_.token}) {
    Call c(*token);
    billv1::GetManagementEarningsRequest req;
    req.set_from_date(today_);
    req.set_to_date(Tomorrow());
    billv1::GetManagementEarningsResponse resp;
    auto s = stub->GetManagementEarnings(&c.ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << Describe(s);
    ASSERT_EQ(resp.days_size(), 2);
    for (const auto& d : resp.days()) {
      auto fr = model_->day_fees_rewards[d.business_date()];
      // -(sum of the workers' fees and rewards of the day)
      int64_t workers_sum = 0;
      for (const auto& p : model_->postings) {
        if (p.date == d.business_date()) workers_sum += p.amount;
      }
      EXPECT_EQ(d.fees_charged_cents(), fr.first) << d.business_date();
      EXPECT_EQ(d.rewards_paid_cents(), fr.second) << d.business_date();
      EXPECT_EQ(d.earnings_cents(), fr.first - fr.second) << d.business_date();
      EXPECT_EQ(d.earnings_cents(), -workers_sum) << d.business_date();
    }
  }
}

// ---- analytics -----------------------------------------------------------------------------

TEST_F(BusinessDayTest, AnalyticsSummaryEarningsAndMostExpensiveTaskMatchTheHandComputation) {
  auto stub = anv1::AnalyticsService::NewStub(analytics_->channel());
  {
    Call c(admin_.token);
    anv1::GetDailySummaryRequest req;
    req.set_business_date(today_);
    anv1::GetDailySummaryResponse resp;
    auto s = stub->GetDailySummary(&c.ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << Describe(s);
    auto fr = model_->day_fees_rewards[today_];
    EXPECT_EQ(resp.business_date(), today_);
    EXPECT_EQ(resp.fees_charged_cents(), fr.first);
    EXPECT_EQ(resp.rewards_paid_cents(), fr.second);
    EXPECT_EQ(resp.earnings_cents(), fr.first - fr.second);
    // At the end of the day: the dues that were not positive stayed (negative).
    int64_t negative = 0;
    for (const auto& [account, due] : model_->due_at_close) negative += due < 0;
    EXPECT_EQ(resp.negative_balance_accounts(), negative);
  }
  {
    Call c(admin_.token);
    anv1::GetEarningsRequest req;
    req.set_from_date(e2e::ShiftDate(today_, -1));
    req.set_to_date(Tomorrow());
    anv1::GetEarningsResponse resp;
    auto s = stub->GetEarnings(&c.ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << Describe(s);
    ASSERT_EQ(resp.days_size(), 3);
    for (int i = 0; i < 3; ++i) {
      const auto& d = resp.days(i);
      EXPECT_EQ(d.business_date(), e2e::ShiftDate(today_, i - 1));
      auto fr = model_->day_fees_rewards[d.business_date()];
      EXPECT_EQ(d.fees_charged_cents(), fr.first) << d.business_date();
      EXPECT_EQ(d.rewards_paid_cents(), fr.second) << d.business_date();
      EXPECT_EQ(d.earnings_cents(), fr.first - fr.second) << d.business_date();
    }
  }
  struct P {
    anv1::Period period;
    std::pair<std::string, std::string> range;
  };
  for (const auto& [period, range] :
       {P{anv1::PERIOD_DAY, {today_, today_}}, P{anv1::PERIOD_WEEK, e2e::IsoWeekOf(today_)},
        P{anv1::PERIOD_MONTH, e2e::MonthOf(today_)}}) {
    SCOPED_TRACE(anv1::Period_Name(period));
    Call c(admin_.token);
    anv1::GetMostExpensiveTaskRequest req;
    req.set_period(period);
    req.set_business_date(today_);
    anv1::GetMostExpensiveTaskResponse resp;
    auto s = stub->GetMostExpensiveTask(&c.ctx, req, &resp);
    auto want = MostExpensive(range.first, range.second);
    if (!want) {  // only when the whole day's completions fell after midnight
      EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
      continue;
    }
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(resp.from_date(), range.first);
    EXPECT_EQ(resp.to_date(), range.second);
    EXPECT_EQ(resp.task_id(), want->task_id);
    EXPECT_EQ(resp.reward_cents(), want->reward);
    EXPECT_EQ(resp.title(), model_->described.at(want->task_id).first);
    EXPECT_EQ(resp.jira_id(), model_->described.at(want->task_id).second);
    EXPECT_EQ(Micros(resp.completed_at()), want->completed_us);
  }
}

TEST_F(BusinessDayTest, OnlyTheAdminSeesAnalytics) {
  auto stub = anv1::AnalyticsService::NewStub(analytics_->channel());
  std::vector<std::pair<std::string, const Person*>> refused = {{"accountant", &accountant_},
                                                                {"manager", &manager_}};
  for (const auto& w : workers_) refused.emplace_back("worker", &w);
  for (const auto& [role, p] : refused) {
    SCOPED_TRACE(p->login);
    {
      Call c(p->token);
      anv1::GetDailySummaryRequest req;
      anv1::GetDailySummaryResponse resp;
      auto s = stub->GetDailySummary(&c.ctx, req, &resp);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
      EXPECT_EQ(resp.fees_charged_cents(), 0);
    }
    {
      Call c(p->token);
      anv1::GetMostExpensiveTaskRequest req;
      req.set_period(anv1::PERIOD_DAY);
      anv1::GetMostExpensiveTaskResponse resp;
      auto s = stub->GetMostExpensiveTask(&c.ctx, req, &resp);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
      EXPECT_TRUE(resp.task_id().empty());
    }
    {
      Call c(p->token);
      anv1::GetEarningsRequest req;
      req.set_from_date(today_);
      req.set_to_date(today_);
      anv1::GetEarningsResponse resp;
      auto s = stub->GetEarnings(&c.ctx, req, &resp);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
      EXPECT_EQ(resp.days_size(), 0);
    }
  }
  Call c;
  anv1::GetDailySummaryResponse resp;
  EXPECT_EQ(stub->GetDailySummary(&c.ctx, anv1::GetDailySummaryRequest(), &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

// ---- the idle system ------------------------------------------------------------------------

TEST_F(BusinessDayTest, AnIdleSystemHasEmptyOutboxesAndNoDeadLetters) {
  for (const auto& [daemon, db] : dbs_) {
    EXPECT_TRUE(Eventually([&] { return Unpublished(daemon) == 0; }, 10s))
        << daemon << ": " << Unpublished(daemon) << " unpublished outbox rows";
    auto dead = Query(db, "SELECT consumer, subject, reason FROM dead_letters");
    EXPECT_EQ(dead.Rows(), 0) << daemon << " has dead letters, first: "
                              << (dead.Rows() ? dead.String(0, 0) + " " + dead.String(0, 1) + ": " +
                                                    dead.String(0, 2)
                                              : "");
  }
}

// ---- atesctl ---------------------------------------------------------------------------------

TEST_F(BusinessDayTest, AtesctlAWorkerLogsInAndListsTasksAsTableAndJson) {
  const std::string dir = CtlDir();
  const auto& w = workers_.front();
  const std::string token_file = dir + "/token";
  auto login = Ctl(dir, token_file, {"login", "--user", w.login, "--password-stdin"},
                   std::string(kPassword) + "\n");
  ASSERT_EQ(login.exit_code, 0) << Show(login);
  struct stat st {};
  ASSERT_EQ(stat(token_file.c_str(), &st), 0) << "no token file";
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "token file mode";

  // The worker's own tasks, through gRPC.
  auto stub = tasksv1::TaskService::NewStub(tasks_->channel());
  std::set<std::string> mine, mine_open;
  {
    Call c(w.token);
    tasksv1::ListTasksRequest req;
    req.set_page_size(500);
    tasksv1::ListTasksResponse resp;
    ASSERT_TRUE(stub->ListTasks(&c.ctx, req, &resp).ok());
    for (const auto& t : resp.tasks()) {
      mine.insert(t.id());
      if (t.status() == tasksv1::TASK_STATUS_OPEN) mine_open.insert(t.id());
    }
  }

  auto json = Ctl(dir, token_file, {"-o", "json", "tasks", "list", "--all"});
  ASSERT_EQ(json.exit_code, 0) << Show(json);
  tasksv1::ListTasksResponse parsed;
  google::protobuf::util::JsonParseOptions strict;
  strict.ignore_unknown_fields = false;
  auto st_json = google::protobuf::util::JsonStringToMessage(json.out, &parsed, strict);
  ASSERT_TRUE(st_json.ok()) << st_json.ToString() << "\n" << json.out;
  std::set<std::string> listed;
  for (const auto& t : parsed.tasks()) {
    listed.insert(t.id());
    EXPECT_EQ(t.assignee_id(), w.id);
    EXPECT_EQ(t.assignee_login(), w.login);
  }
  EXPECT_EQ(listed, mine);

  auto table = Ctl(dir, token_file, {"-o", "table", "tasks", "list"});
  ASSERT_EQ(table.exit_code, 0) << Show(table);
  std::istringstream lines(table.out);
  std::string header;
  std::getline(lines, header);
  for (const char* column : {"ID", "JIRA", "TITLE", "STATUS", "ASSIGNEE", "NAME"}) {
    EXPECT_THAT(header, HasSubstr(column)) << table.out;
  }
  std::set<std::string> rows;
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream ls(line);
    std::string first;
    if (ls >> first && first.size() == 36) {
      rows.insert(first);
      // The assignee by login, never by bare id.
      EXPECT_THAT(line, HasSubstr(" " + w.login + " ")) << line;
      EXPECT_THAT(line, Not(HasSubstr(w.id))) << line;
    }
  }
  EXPECT_EQ(rows, mine_open) << table.out;  // open tasks by default
}

TEST_F(BusinessDayTest, AtesctlAWorkerListingAccountsExitsWithFourAndTheAdminWithZero) {
  const std::string dir = CtlDir();
  const auto& w = workers_.back();
  const std::string worker_file = dir + "/worker-token";
  auto login = Ctl(dir, worker_file, {"login", "--user", w.login, "--password-stdin"},
                   std::string(kPassword) + "\n");
  ASSERT_EQ(login.exit_code, 0) << Show(login);
  auto denied = Ctl(dir, worker_file, {"accounts", "list"});
  EXPECT_EQ(denied.exit_code, 4) << Show(denied);
  EXPECT_TRUE(denied.out.empty()) << "data on stdout for a refused call: " << denied.out;
  EXPECT_THAT(denied.err, HasSubstr("permission denied"));
  auto analytics = Ctl(dir, worker_file, {"analytics", "summary"});
  EXPECT_EQ(analytics.exit_code, 4) << Show(analytics);

  const std::string admin_file = dir + "/admin-token";
  auto admin_login = Ctl(dir, admin_file, {"login", "--user", kAdminLogin, "--password-stdin"},
                         std::string(kAdminPassword) + "\n");
  ASSERT_EQ(admin_login.exit_code, 0) << Show(admin_login);
  auto list = Ctl(dir, admin_file, {"-o", "json", "accounts", "list"});
  ASSERT_EQ(list.exit_code, 0) << Show(list);
  authv1::ListAccountsResponse accounts;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(list.out, &accounts).ok()) << list.out;
  std::set<std::string> logins;
  for (const auto& a : accounts.accounts()) logins.insert(a.login());
  for (const auto* p : Everyone()) EXPECT_TRUE(logins.count(p->login)) << p->login;

  auto bad_password = Ctl(dir, dir + "/nobody", {"login", "--user", w.login, "--password-stdin"},
                          "wrong-password\n");
  EXPECT_EQ(bad_password.exit_code, 3) << Show(bad_password);
}

// ---- /metrics
// ------------------------------------------------------------------------------------

TEST(PrometheusTextTest, MalformedTextIsRejected) {
  auto ok = e2e::CheckPrometheusText(
      "# HELP a_total x\n# TYPE a_total counter\na_total{m=\"x\\\"y\",c=\"OK\"} 3\n"
      "# A comment.\n# TYPE q summary\nq{quantile=\"0.5\"} Nan\nq_sum 1.5e3\nq_count 2 "
      "1700000000000\n"
      "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n");
  EXPECT_TRUE(ok.errors.empty()) << ::testing::PrintToString(ok.errors);
  EXPECT_EQ(ok.Sum("a_total"), 3);
  EXPECT_EQ(ok.types["h"], "histogram");
  for (const char* bad :
       {"1abc 1\n", "a{b=c} 1\n", "a{b=\"c\"}1\n", "a 1 2 3\n", "a x\n", "# TYPE a countr\na 1\n",
        "a{b=\"c\",b=\"d\"} 1\n", "a 1", "# TYPE a counter\na -1\n", "a 1\n# TYPE a counter\n"}) {
    EXPECT_FALSE(e2e::CheckPrometheusText(bad).errors.empty()) << bad;
  }
}

TEST_F(BusinessDayTest, EveryDaemonServesValidPrometheusText) {
  {  // at least one billing call to count
    auto billing = billv1::BillingService::NewStub(billing_->channel());
    BalanceOf(*billing, admin_.token, workers_.front().id);
  }
  const std::string promtool = e2e::FindInPath("promtool");
  if (promtool.empty()) {
    std::cout << "[ INFO ] promtool is not installed: /metrics checked by the test's own parser\n";
  }
  // Who publishes and who consumes in this system.
  const std::set<std::string> publishers = {"ates-auth", "ates-tasks", "ates-billing",
                                            "ates-scheduler"};
  const std::set<std::string> consumers = {"ates-tasks", "ates-billing", "ates-analytics"};
  for (const auto& [daemon, listen] : admin_listen_) {
    SCOPED_TRACE(daemon + " at " + listen);
    e2e::HttpResponse resp;
    ASSERT_TRUE(Eventually(
        [&] {
          resp = e2e::HttpGet(listen, "/metrics");
          return resp.status == 200;
        },
        10s))
        << resp.status << " " << resp.error;
    EXPECT_THAT(resp.headers["content-type"], HasSubstr("text/plain"));
    auto check = e2e::CheckPrometheusText(resp.body);
    for (const auto& e : check.errors) ADD_FAILURE() << e;
    for (const auto& [family, type] : check.types) {
      EXPECT_TRUE(check.helped.count(family)) << family << " has no HELP";
    }
    EXPECT_EQ(check.types["grpc_server_handled_total"], "counter");
    EXPECT_GT(check.Sum("grpc_server_handled_total"), 0) << resp.body;
    EXPECT_EQ(check.types["grpc_server_handling_seconds"], "histogram");
    EXPECT_GT(check.samples["grpc_server_handling_seconds_bucket"], 0);
    EXPECT_EQ(check.Sum("ates_build_info"), 1);
    EXPECT_GT(check.Sum("process_resident_memory_bytes"), 0);
    if (publishers.count(daemon)) {
      EXPECT_GT(check.Sum("ates_events_published_total"), 0) << "nothing published";
    }
    if (consumers.count(daemon)) {
      EXPECT_GT(check.Sum("ates_events_consumed_total"), 0) << "nothing consumed";
    }
    EXPECT_EQ(check.Sum("ates_events_dead_lettered_total"), 0);
    if (!promtool.empty()) {
      std::string file = TestStack::Get().dir() + "/metrics-" + daemon + ".txt";
      std::ofstream(file) << resp.body;
      auto r = e2e::RunCli({promtool, "check", "metrics"}, resp.body, {});
      // promtool also lints (exit 3 for lint-only problems); 1 is a parse error.
      EXPECT_NE(r.exit_code, 1) << r.out << r.err;
    }
  }
  // The gRPC calls of the day are counted where they were handled.
  auto billing_text = e2e::HttpGet(admin_listen_["ates-billing"], "/metrics").body;
  EXPECT_THAT(billing_text, HasSubstr(R"(grpc_method="GetBalance",)"
                                      R"(grpc_service="ates.billing.v1.BillingService")"));
  auto sched_text = e2e::HttpGet(admin_listen_["ates-scheduler"], "/metrics").body;
  EXPECT_THAT(sched_text, HasSubstr(R"(grpc_method="CloseBillingCycle",)"
                                    R"(grpc_service="ates.scheduler.v1.SchedulerService")"));
}

}  // namespace
}  // namespace ates::test
