// BillingService.ReconcileDay and `atesctl audit reconcile` against the real
// ates-billing: a day of assignments, shuffles and completions (one event on
// the stream twice) reconciles with no difference; a posting deleted straight
// from billing's database is reported missing for its account, atesctl exits
// with 9 and the metric shows it; stray and doubled postings are unexpected
// and duplicated; an event posted late to the first open day matches on its own
// day; workers and managers are refused. The ledger invariants are checked
// after every test, so every test leaves the database as it found it.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "support/billing_helpers.hpp"
#include "support/e2e_support.hpp"

#ifndef ATESCTL_BIN
#error "ATESCTL_BIN must be defined by the build"
#endif

namespace ates::test {
namespace {

using ::ates::common::v1::ROLE_ACCOUNTANT;
using ::ates::common::v1::ROLE_MANAGER;
using ::ates::common::v1::ROLE_WORKER;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct SavedPosting {
  pg::Result transaction;
  pg::Result entries;
};

// Counts of the day as the test published them, per account.
struct AccountWant {
  int64_t assigned = 0, completed = 0;
};

class ReconcileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      Start();
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete billing_;
    delete auth_;
    billing_ = auth_ = nullptr;
  }
  void SetUp() override {
    if (setup_error_) FAIL() << "reconcile test system did not start: " << *setup_error_;
  }
  void TearDown() override {
    if (setup_error_) return;
    ASSERT_TRUE(BillingQuiet(*js_, billing_db_)) << "billing did not catch up";
    CheckLedgerInvariants(billing_db_, *model_, *stub_, accountant_.token, *billing_events_);
  }

  // ---- the system -----------------------------------------------------------------------

  static void Start() {
    auto& stack = TestStack::Get();
    js_ = new JsClient(stack.nats_url());
    auth_db_ = stack.CreateDatabase("reconcile_auth");
    billing_db_ = stack.CreateDatabase("reconcile_billing");
    metrics_ = "127.0.0.1:" + std::to_string(FreePort());
    auth_ = new Daemon(
        AuthDaemon("ates-auth", auth_db_, {{"ATES_NATS_DUPLICATE_WINDOW", kDuplicateWindow}}));
    auth_->Start();
    billing_ = new Daemon(BillingDaemon("ates-billing", billing_db_, auth_->target(),
                                        stack.dir() + "/reconcile-mail",
                                        {{"ATES_ADMIN_LISTEN", metrics_}}));
    billing_->Start();
    auth_stub_ = authv1::AuthService::NewStub(auth_->channel()).release();
    stub_ = billv1::BillingService::NewStub(billing_->channel()).release();
    admin_token_ = Login(*auth_stub_, kAdminLogin, kAdminPassword);
    accountant_ = CreatePerson(*auth_stub_, admin_token_, "accountant-r", ROLE_ACCOUNTANT);
    worker_ = CreatePerson(*auth_stub_, admin_token_, "worker-r", ROLE_WORKER);
    manager_ = CreatePerson(*auth_stub_, admin_token_, "manager-r", ROLE_MANAGER);
    for (const char* s : {"ACCOUNTS", "TASKS", "BILLING", "SCHEDULE"}) {
      if (!Eventually([&] { return js_->StreamExists(s); })) {
        throw std::runtime_error(std::string("stream ") + s + " not created");
      }
    }
    billing_events_ = new StreamCache(*js_, "BILLING");
    model_ = new LedgerModel();
    today_ = e2e::UtcDate(std::chrono::system_clock::now());
    yesterday_ = AddDays(today_, -1);
    PublishTheDays();
    if (!BillingQuiet(*js_, billing_db_)) throw std::runtime_error("billing did not catch up");
  }

  static PublishResult Send(const Ev& e) {
    model_->Record(e);
    return Publish(*js_, e);
  }

  // Yesterday is closed first; then today gets tasks assigned, some shuffled,
  // half completed, and one event of yesterday arrives late (after the close).
  static void PublishTheDays() {
    Publish(*js_, ClosedEv(yesterday_));
    if (!Eventually(
            [] { return QueryInt(billing_db_, "SELECT count(*) FROM billing_cycles") == 1; })) {
      throw std::runtime_error("yesterday was not closed");
    }
    std::vector<std::string> workers = {worker_.id};
    for (int i = 0; i < 3; ++i) workers.push_back(events::NewUuid());
    auto at = [](int second) {
      char t[16];
      std::snprintf(t, sizeof t, "%02d:%02d:%02d", second / 3600, second / 60 % 60, second % 60);
      return At(today_, t);
    };
    int second = 1;
    Ev copied;
    for (int i = 0; i < 12; ++i) {
      const std::string task = events::NewUuid();
      std::string assignee = workers[i % workers.size()];
      Send(CreatedV2(task, "Reconciled task " + std::to_string(i), "UP-" + std::to_string(i),
                     at(second)));
      Ev assigned = AssignedEv(task, assignee, at(second++));
      Send(assigned);
      ++want_[assignee].assigned;
      if (i == 0) copied = assigned;
      if (i % 3 == 0) {  // shuffled to the next worker
        std::string next = workers[(i + 1) % workers.size()];
        Send(AssignedEv(task, next, at(second++), assignee));
        ++want_[next].assigned;
        assignee = next;
      }
      if (i % 2 == 0) {
        Send(CompletedEv(task, assignee, at(second++)));
        ++want_[assignee].completed;
      }
    }
    // One event again after the duplicate window: a second stream message.
    std::this_thread::sleep_for(kPastDuplicateWindow);
    if (Publish(*js_, copied).duplicate) throw std::runtime_error("the copy was de-duplicated");

    // Happened just before yesterday's end, reached billing after the close:
    // posted to the first open day, today.
    late_task_ = events::NewUuid();
    Send(CreatedV2(late_task_, "Late task", "UP-99", At(yesterday_, "23:59:58")));
    Ev late = AssignedEv(late_task_, workers[1], At(yesterday_, "23:59:59"));
    late.business_date = today_;
    late_event_ = late.id;
    Send(late);
  }

  // ---- calls ------------------------------------------------------------------------------

  static grpc::Status Reconcile(const std::string& token, const std::string& date,
                                billv1::ReconcileDayResponse* out) {
    Call c(token, std::chrono::seconds(60));
    billv1::ReconcileDayRequest req;
    req.set_business_date(date);
    return stub_->ReconcileDay(&c.ctx, req, out);
  }

  static billv1::ReconcileDayResponse ReconcileOk(const std::string& date) {
    billv1::ReconcileDayResponse r;
    auto s = Reconcile(accountant_.token, date, &r);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return r;
  }

  static std::string TokenFile(const std::string& name, const std::string& token) {
    std::string dir = TestStack::Get().dir() + "/atesctl-reconcile";
    std::filesystem::create_directories(dir);
    std::string path = dir + "/" + name;
    std::ofstream(path) << token << "\n";
    ::chmod(path.c_str(), 0600);
    return path;
  }

  static e2e::CliResult Ctl(const std::string& token_file, std::vector<std::string> args) {
    std::vector<std::string> argv = {ATESCTL_BIN, "--billing", billing_->target(), "--token-file",
                                     token_file};
    for (auto& a : args) argv.push_back(std::move(a));
    std::string home = TestStack::Get().dir() + "/atesctl-reconcile";
    return e2e::RunCli(argv, "", {{"HOME", home}, {"NO_COLOR", "1"}});
  }

  static std::string Show(const e2e::CliResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
  }

  // ---- the database ---------------------------------------------------------------------

  // Deletes a posting's rows (its ledger entries, then the transaction), nothing else.
  static SavedPosting DeletePosting(const std::string& id) {
    pg::Connection c(billing_db_);
    SavedPosting saved{
        c.Exec("SELECT id, seq, kind, account_id, task_id, amount_cents, business_date,"
               " occurred_at, created_at FROM transactions WHERE id = $1",
               {pg::Text(id)}),
        c.Exec("SELECT id, transaction_id, account_id, amount_cents FROM ledger_entries"
               " WHERE transaction_id = $1",
               {pg::Text(id)})};
    c.Exec("DELETE FROM ledger_entries WHERE transaction_id = $1", {pg::Text(id)});
    c.Exec("DELETE FROM transactions WHERE id = $1", {pg::Text(id)});
    return saved;
  }

  static void Restore(const SavedPosting& s) {
    pg::Connection c(billing_db_);
    const auto& t = s.transaction;
    c.Exec(
        "INSERT INTO transactions (id, seq, kind, account_id, task_id, amount_cents,"
        " business_date, occurred_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        {pg::Text(t.Text(0, 0)), pg::Text(t.Text(0, 1)), pg::Text(t.Text(0, 2)),
         pg::Text(t.Text(0, 3)), pg::Text(t.Text(0, 4)), pg::Text(t.Text(0, 5)),
         pg::Text(t.Text(0, 6)), pg::Text(t.Text(0, 7)), pg::Text(t.Text(0, 8))});
    for (int i = 0; i < s.entries.Rows(); ++i) {
      c.Exec(
          "INSERT INTO ledger_entries (id, transaction_id, account_id, amount_cents)"
          " VALUES ($1, $2, $3, $4)",
          {pg::Text(s.entries.Text(i, 0)), pg::Text(s.entries.Text(i, 1)),
           pg::Text(s.entries.Text(i, 2)), pg::Text(s.entries.Text(i, 3))});
    }
  }

  // A fee written straight into the ledger (transaction and both entries;
  // balances untouched), under a made-up id.
  static std::string InsertFee(const std::string& account, const std::string& task,
                               int64_t amount) {
    std::string id = events::NewUuid();
    pg::Connection c(billing_db_);
    c.Exec(
        "INSERT INTO transactions (id, kind, account_id, task_id, amount_cents, business_date,"
        " occurred_at) VALUES ($1, 'assign_fee', $2, $3, $4, $5, $6)",
        {pg::Text(id), pg::Text(account), pg::Text(task), pg::Int(amount), pg::Text(today_),
         pg::Text(At(today_, "08:00:00"))});
    c.Exec(
        "INSERT INTO ledger_entries (transaction_id, account_id, amount_cents)"
        " VALUES ($1, $2, $3), ($1, $4, -$3::bigint)",
        {pg::Text(id), pg::Text(account), pg::Int(amount), pg::Text(kCompanyAccount)});
    return id;
  }

  static void RemoveFee(const std::string& id) {
    pg::Connection c(billing_db_);
    c.Exec("DELETE FROM ledger_entries WHERE transaction_id = $1", {pg::Text(id)});
    c.Exec("DELETE FROM transactions WHERE id = $1", {pg::Text(id)});
  }

  // ---- metrics and NATS -----------------------------------------------------------------

  // The value of `family`{label="value"} on billing's /metrics; -1 when absent.
  static double Metric(const std::string& family, const std::string& label) {
    auto r = e2e::HttpGet(metrics_, "/metrics");
    if (r.status != 200) return -1;
    auto check = e2e::CheckPrometheusText(r.body);
    EXPECT_THAT(check.errors, IsEmpty());
    for (const auto& [labels, value] : check.values[family]) {
      if (labels.find(label) != std::string::npos) return value;
    }
    return -1;
  }

  static int64_t ConsumersOn(const std::string& stream) {
    natsConnection* nc = nullptr;
    if (natsConnection_ConnectTo(&nc, TestStack::Get().nats_url().c_str()) != NATS_OK) return -1;
    jsCtx* js = nullptr;
    jsStreamInfo* info = nullptr;
    int64_t n = -1;
    if (natsConnection_JetStream(&js, nc, nullptr) == NATS_OK &&
        js_GetStreamInfo(&info, js, stream.c_str(), nullptr, nullptr) == NATS_OK) {
      n = info->State.Consumers;
      jsStreamInfo_Destroy(info);
    }
    if (js) jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    return n;
  }

  static const billv1::AccountReconciliation* AccountOf(const billv1::ReconcileDayResponse& r,
                                                        const std::string& id) {
    for (const auto& a : r.accounts()) {
      if (a.account_id() == id) return &a;
    }
    return nullptr;
  }

  static inline std::string* setup_error_ = nullptr;
  static inline JsClient* js_ = nullptr;
  static inline Daemon *auth_ = nullptr, *billing_ = nullptr;
  static inline authv1::AuthService::Stub* auth_stub_ = nullptr;
  static inline billv1::BillingService::Stub* stub_ = nullptr;
  static inline std::string auth_db_, billing_db_, metrics_, admin_token_;
  static inline Person accountant_, worker_, manager_;
  static inline LedgerModel* model_ = nullptr;
  static inline StreamCache* billing_events_ = nullptr;
  static inline std::string today_, yesterday_, late_task_, late_event_;
  static inline std::map<std::string, AccountWant> want_;
};

TEST_F(ReconcileTest, ADayWithEveryEventPostedHasNoDifferencesPerAccount) {
  auto r = ReconcileOk(today_);
  EXPECT_EQ(r.business_date(), today_);
  EXPECT_EQ(r.assigned_events(), 16);
  EXPECT_EQ(r.completed_events(), 6);
  EXPECT_EQ(r.postings(), 22);
  EXPECT_EQ(r.missing() + r.unexpected() + r.duplicated() + r.mismatched(), 0);
  EXPECT_EQ(r.differences_size(), 0);
  EXPECT_EQ(r.stream_copies(), 1) << "the event published twice counts once";
  EXPECT_GE(r.stream_messages_read(), 23);
  EXPECT_EQ(r.stream_messages_skipped(), 0);
  EXPECT_EQ(google::protobuf::util::TimeUtil::ToString(r.day_start()), today_ + "T00:00:00Z");
  EXPECT_EQ(google::protobuf::util::TimeUtil::ToString(r.day_end()),
            AddDays(today_, 1) + "T00:00:00Z");

  // Per account: the events published and what their prices call for.
  auto prices = Query(billing_db_,
                      "SELECT p.task_id::text, p.assign_fee_cents, p.completion_reward_cents"
                      " FROM task_prices p");
  std::map<std::string, std::pair<int64_t, int64_t>> price;
  for (int i = 0; i < prices.Rows(); ++i)
    price[prices.String(i, 0)] = {prices.Int(i, 1), prices.Int(i, 2)};
  std::map<std::string, int64_t> expected;
  for (const auto& [id, p] : model_->Postings()) {
    if (p.business_date != today_ || p.event_id == late_event_) continue;
    auto [fee, reward] = price.at(p.task_id);
    expected[p.account_id] += p.kind == "assign_fee" ? -fee : reward;
  }
  ASSERT_EQ(r.accounts_size(), static_cast<int>(want_.size()));
  for (const auto& [account, want] : want_) {
    SCOPED_TRACE(account);
    const auto* a = AccountOf(r, account);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->assigned_events(), want.assigned);
    EXPECT_EQ(a->completed_events(), want.completed);
    EXPECT_EQ(a->postings(), want.assigned + want.completed);
    EXPECT_EQ(a->expected_cents(), expected[account]);
    EXPECT_EQ(a->posted_cents(), expected[account]);
  }

  // Its consumers are gone: only billing's own durable reads TASKS.
  EXPECT_TRUE(Eventually([] { return ConsumersOn("TASKS") == 1; }))
      << ConsumersOn("TASKS") << " consumers on TASKS";
  EXPECT_EQ(Metric("ates_reconcile_differences", "kind=\"missing\""), 0);
  EXPECT_GE(Metric("ates_reconcile_runs_total", "result=\"clean\""), 1);
}

TEST_F(ReconcileTest, AnEventPostedLateToTheFirstOpenDayMatchesOnTheDayItHappened) {
  EXPECT_EQ(QueryInt(billing_db_,
                     "SELECT count(*) FROM transactions WHERE id = $1"
                     " AND business_date = $2::date",
                     {pg::Text(late_event_), pg::Text(today_)}),
            1)
      << "the late event was posted to today";
  auto y = ReconcileOk(yesterday_);
  EXPECT_EQ(y.assigned_events(), 1);
  EXPECT_EQ(y.completed_events(), 0);
  EXPECT_EQ(y.postings(), 1);
  EXPECT_EQ(y.missing() + y.unexpected() + y.duplicated() + y.mismatched(), 0);
  // And today does not count it: it happened yesterday.
  auto t = ReconcileOk(today_);
  EXPECT_EQ(t.assigned_events(), 16);
  EXPECT_EQ(t.postings(), 22);
}

TEST_F(ReconcileTest, ADeletedPostingIsMissingForItsAccountAndAtesctlExitsWithNine) {
  // A reward of today, its rows deleted in billing's database and nothing else.
  auto row = Query(billing_db_,
                   "SELECT id::text, account_id::text, amount_cents FROM transactions"
                   " WHERE kind = 'completion_reward' AND business_date = $1::date"
                   " ORDER BY seq LIMIT 1",
                   {pg::Text(today_)});
  ASSERT_EQ(row.Rows(), 1);
  const std::string id = row.String(0, 0), account = row.String(0, 1);
  const int64_t amount = row.Int(0, 2);
  SavedPosting saved = DeletePosting(id);

  auto r = ReconcileOk(today_);
  EXPECT_EQ(r.missing(), 1);
  EXPECT_EQ(r.unexpected() + r.duplicated() + r.mismatched(), 0);
  EXPECT_EQ(r.postings(), 21);
  ASSERT_EQ(r.differences_size(), 1);
  const auto& d = r.differences(0);
  EXPECT_EQ(d.kind(), billv1::DIFFERENCE_KIND_MISSING);
  EXPECT_EQ(d.event_id(), id);
  EXPECT_EQ(d.transaction_kind(), billv1::TRANSACTION_KIND_COMPLETION_REWARD);
  EXPECT_EQ(d.account_id(), account);
  EXPECT_EQ(d.amount_cents(), amount);
  EXPECT_THAT(d.detail(), HasSubstr("applied the event, but its posting is gone"));
  for (const auto& a : r.accounts()) {
    EXPECT_EQ(a.missing(), a.account_id() == account ? 1 : 0) << a.account_id();
    if (a.account_id() == account) {
      EXPECT_EQ(a.posted_cents(), a.expected_cents() - amount);
    }
  }
  EXPECT_EQ(Metric("ates_reconcile_differences", "kind=\"missing\""), 1);
  EXPECT_GE(Metric("ates_reconcile_runs_total", "result=\"differences\""), 1);

  const std::string admin = TokenFile("admin", admin_token_);
  auto json = Ctl(admin, {"-o", "json", "audit", "reconcile", "--date", today_});
  EXPECT_EQ(json.exit_code, 9) << Show(json);
  billv1::ReconcileDayResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &parsed).ok()) << json.out;
  EXPECT_EQ(parsed.missing(), 1);
  ASSERT_EQ(parsed.differences_size(), 1);
  EXPECT_EQ(parsed.differences(0).event_id(), id);
  EXPECT_THAT(json.err, HasSubstr("1 difference between TASKS and the ledger on " + today_));

  auto table = Ctl(admin, {"audit", "reconcile", "--date", today_});
  EXPECT_EQ(table.exit_code, 9) << Show(table);
  EXPECT_THAT(table.out, HasSubstr("MISSING"));
  EXPECT_THAT(table.out, HasSubstr(account));  // the account's line
  std::istringstream lines(table.out);
  std::string line;
  bool listed = false;
  while (std::getline(lines, line)) {
    if (line.rfind("missing ", 0) != 0) continue;
    listed = true;
    EXPECT_THAT(line, HasSubstr("completion_reward"));
    EXPECT_THAT(line, HasSubstr(id));
    EXPECT_THAT(line, HasSubstr("posting is gone"));
  }
  EXPECT_TRUE(listed) << table.out;

  Restore(saved);
  auto clean = Ctl(admin, {"audit", "reconcile", "--date", today_});
  EXPECT_EQ(clean.exit_code, 0) << Show(clean);
  EXPECT_EQ(Metric("ates_reconcile_differences", "kind=\"missing\""), 0);
}

TEST_F(ReconcileTest, AStrayPostingIsUnexpectedAndASecondFeeForAnAssignmentIsDuplicated) {
  auto fee = Query(billing_db_,
                   "SELECT account_id::text, task_id::text, amount_cents FROM transactions"
                   " WHERE kind = 'assign_fee' AND business_date = $1::date AND id <> $2"
                   " ORDER BY seq LIMIT 1",
                   {pg::Text(today_), pg::Text(late_event_)});
  ASSERT_EQ(fee.Rows(), 1);
  // The same assignment posted again under another id, and a fee for a task
  // the stream never heard of.
  const std::string doubled = InsertFee(fee.String(0, 0), fee.String(0, 1), fee.Int(0, 2));
  const std::string stray = InsertFee(worker_.id, events::NewUuid(), -1234);

  auto r = ReconcileOk(today_);
  EXPECT_EQ(r.duplicated(), 1);
  EXPECT_EQ(r.unexpected(), 1);
  EXPECT_EQ(r.missing() + r.mismatched(), 0);
  std::map<std::string, billv1::DifferenceKind> kinds;
  for (const auto& d : r.differences()) kinds[d.event_id()] = d.kind();
  EXPECT_EQ(kinds[doubled], billv1::DIFFERENCE_KIND_DUPLICATED);
  EXPECT_EQ(kinds[stray], billv1::DIFFERENCE_KIND_UNEXPECTED);
  EXPECT_EQ(AccountOf(r, worker_.id)->unexpected(), 1);
  EXPECT_EQ(Metric("ates_reconcile_differences", "kind=\"duplicated\""), 1);
  EXPECT_EQ(Metric("ates_reconcile_differences", "kind=\"unexpected\""), 1);

  RemoveFee(doubled);
  RemoveFee(stray);
  auto clean = ReconcileOk(today_);
  EXPECT_EQ(clean.missing() + clean.unexpected() + clean.duplicated() + clean.mismatched(), 0);
}

TEST_F(ReconcileTest, WorkersAndManagersAreRefusedAdminsAndAccountantsMayReconcile) {
  for (const Person* who : {&worker_, &manager_}) {
    SCOPED_TRACE(who->login);
    billv1::ReconcileDayResponse r;
    auto s = Reconcile(who->token, today_, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
    EXPECT_EQ(r.assigned_events(), 0);
  }
  auto worker = Ctl(TokenFile("worker", worker_.token), {"audit", "reconcile"});
  EXPECT_EQ(worker.exit_code, 4) << Show(worker);
  EXPECT_TRUE(worker.out.empty()) << worker.out;
  EXPECT_THAT(worker.err, HasSubstr("permission denied"));

  billv1::ReconcileDayResponse r;
  auto s = Reconcile(admin_token_, "", &r);  // empty: today
  EXPECT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(r.business_date(), today_);
}

TEST_F(ReconcileTest, AMalformedDateOrOneAfterTodayIsAnInvalidArgument) {
  for (const std::string& date :
       {std::string("2026-13-01"), std::string("yesterday"), AddDays(today_, 2)}) {
    SCOPED_TRACE(date);
    billv1::ReconcileDayResponse r;
    auto s = Reconcile(accountant_.token, date, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
    EXPECT_THAT(BadRequestFields(s), ::testing::Contains("business_date"));
  }
  auto usage = Ctl(TokenFile("accountant", accountant_.token),
                   {"audit", "reconcile", "--date", "2026-02-30"});  // no such day
  EXPECT_EQ(usage.exit_code, 2) << Show(usage);
}

}  // namespace
}  // namespace ates::test
