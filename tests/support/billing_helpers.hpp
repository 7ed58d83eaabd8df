#pragma once
// Helpers for the billing and scheduler integration tests: daemon options,
// task/schedule events built like their producers build them, a model of the
// postings a test expects, and the ledger invariants checked after every test.

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ates/billing/v1/billing_service.grpc.pb.h"
#include "ates/events/billing/v1/billing_events.pb.h"
#include "ates/events/schedule/v1/schedule_events.pb.h"
#include "ates/events/tasks/v1/task_events.pb.h"
#include "ates/events/tasks/v2/task_events.pb.h"
#include "ates/platform/dates.hpp"
#include "ates/platform/events.hpp"
#include "support/auth_helpers.hpp"
#include "support/error_fields.hpp"
#include "support/test_handler.hpp"
#include "support/wait.hpp"

#ifndef ATES_BILLING_BIN
#error "ATES_BILLING_BIN must be defined by the build"
#endif

namespace ates::test {

namespace billv1 = ::ates::billing::v1;
namespace tev1 = ::ates::events::tasks::v1;
namespace tev2 = ::ates::events::tasks::v2;
namespace sev1 = ::ates::events::schedule::v1;
namespace bev1 = ::ates::events::billing::v1;

inline constexpr const char* kCompanyAccount = "00000000-0000-0000-0000-000000000001";
// Short enough that a test can re-publish an event with the same Nats-Msg-Id
// after it and get a second stream message (the inbox must drop it).
inline constexpr const char* kDuplicateWindow = "1s";
inline constexpr auto kPastDuplicateWindow = std::chrono::milliseconds(1300);

// --- daemons ---------------------------------------------------------------

inline DaemonOptions BillingDaemon(const std::string& name, const std::string& database_url,
                                   const std::string& auth_target, const std::string& mail_dir,
                                   std::map<std::string, std::string> env = {}) {
  return SystemDaemon(name, "ates-billing", ATES_BILLING_BIN, database_url,
                      {{"ATES_NATS_DUPLICATE_WINDOW", kDuplicateWindow},
                       {"ATES_AUTH_KEYS_URL", auth_target},
                       {"ATES_BILLING_MAIL_DIR", mail_dir}},
                      env);
}

// --- time and dates --------------------------------------------------------

inline google::protobuf::Timestamp Ts(const std::string& rfc3339) {
  google::protobuf::Timestamp ts;
  if (!google::protobuf::util::TimeUtil::FromString(rfc3339, &ts)) {
    throw std::invalid_argument("bad timestamp " + rfc3339);
  }
  return ts;
}

inline std::string AddDays(const std::string& date, int days) {
  return platform::FormatDate(platform::AddDays(platform::ParseDate(date).value(), days));
}

// "2026-01-05" + "T10:00:00Z".
inline std::string At(const std::string& date, const std::string& time = "12:00:00") {
  return date + "T" + time + "Z";
}

inline std::string CloseEventId(const std::string& date) {
  return events::NameUuid("schedule.billing_cycle.closed:" + date);
}

// 12345 -> "123.45", as a payout e-mail shows an amount (written independently
// of the mailer on purpose).
inline std::string Dollars(int64_t cents) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld", cents < 0 ? "-" : "",
                static_cast<long long>(std::llabs(cents) / 100),
                static_cast<long long>(std::llabs(cents) % 100));
  return buf;
}

// --- events ----------------------------------------------------------------

// One event as a producer would publish it.
struct Ev {
  std::string subject;
  std::string id;  // Nats-Msg-Id = event id
  int version = 1;
  std::string payload;
  // For assigned/completed: the posting billing must make, on this business day
  // (the UTC date of the event's time unless a test says otherwise).
  std::string kind;
  std::string account_id;
  std::string task_id;
  std::string business_date;
};

inline Ev MakeEv(std::string subject, std::string id, int version, std::string payload) {
  Ev e;
  e.subject = std::move(subject);
  e.id = std::move(id);
  e.version = version;
  e.payload = std::move(payload);
  return e;
}

inline PublishResult Publish(JsClient& js, const Ev& e) {
  return PublishEvent(js, e.subject, e.id, e.subject, e.version, e.payload);
}

inline Ev CreatedV1(const std::string& task, const std::string& legacy_title,
                    const std::string& at) {
  tev1::TaskCreated c;
  c.set_task_id(task);
  c.set_title(legacy_title);
  c.set_description("made by a test");
  c.set_created_by(events::NewUuid());
  c.set_version(1);
  *c.mutable_created_at() = Ts(at);
  return MakeEv("tasks.task.created", events::NewUuid(), 1, c.SerializeAsString());
}

inline Ev CreatedV2(const std::string& task, const std::string& title, const std::string& jira,
                    const std::string& at) {
  tev2::TaskCreated c;
  c.set_task_id(task);
  c.set_title(title);
  c.set_jira_id(jira);
  c.set_description("made by a test");
  c.set_created_by(events::NewUuid());
  c.set_version(1);
  *c.mutable_created_at() = Ts(at);
  return MakeEv("tasks.task.created", events::NewUuid(), 2, c.SerializeAsString());
}

inline Ev AssignedEv(const std::string& task, const std::string& assignee, const std::string& at,
                     const std::string& previous = "") {
  tev1::TaskAssigned a;
  a.set_task_id(task);
  a.set_assignee_id(assignee);
  a.set_previous_assignee_id(previous);
  *a.mutable_assigned_at() = Ts(at);
  Ev e = MakeEv("tasks.task.assigned", events::NewUuid(), 1, a.SerializeAsString());
  e.kind = "assign_fee";
  e.account_id = assignee;
  e.task_id = task;
  e.business_date = at.substr(0, 10);
  return e;
}

inline Ev CompletedEv(const std::string& task, const std::string& assignee, const std::string& at) {
  tev1::TaskCompleted c;
  c.set_task_id(task);
  c.set_assignee_id(assignee);
  *c.mutable_completed_at() = Ts(at);
  Ev e = MakeEv("tasks.task.completed", events::NewUuid(), 1, c.SerializeAsString());
  e.kind = "completion_reward";
  e.account_id = assignee;
  e.task_id = task;
  e.business_date = at.substr(0, 10);
  return e;
}

// schedule.billing_cycle.closed for `date`; the id is the scheduler's
// date-derived one unless given.
inline Ev ClosedEv(const std::string& date, const std::string& id = "") {
  sev1::BillingCycleClosed c;
  c.set_business_date(date);
  c.set_time_zone("UTC");
  *c.mutable_closed_at() = Ts(At(AddDays(date, 1), "00:00:01"));
  return MakeEv("schedule.billing_cycle.closed", id.empty() ? CloseEventId(date) : id, 1,
                c.SerializeAsString());
}

inline Ev AccountCreatedEv(const std::string& account_id, const std::string& login) {
  return MakeEv("accounts.account.created", events::NewUuid(), 1,
                AccountCreatedPayload(account_id, login));
}

// --- the model of what billing must have posted ----------------------------

struct ExpectedPosting {
  std::string event_id;
  std::string kind;  // assign_fee | completion_reward
  std::string account_id;
  std::string task_id;
  std::string business_date;
};

// Every assigned/completed event published to one billing database, with the
// business day its posting must land on. Thread-safe.
class LedgerModel {
 public:
  void Add(ExpectedPosting p) {
    std::lock_guard lock(mu_);
    postings_[p.event_id] = std::move(p);
  }
  // Records the posting an event must cause (none for other events).
  void Record(const Ev& e) {
    if (!e.kind.empty()) Add({e.id, e.kind, e.account_id, e.task_id, e.business_date});
  }
  std::map<std::string, ExpectedPosting> Postings() const {
    std::lock_guard lock(mu_);
    return postings_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, ExpectedPosting> postings_;
};

// --- gRPC helpers ----------------------------------------------------------

// Logs in as a well-behaved client does: when ates-auth is at its bound of
// password checks (RESOURCE_EXHAUSTED with a google.rpc.RetryInfo), it waits
// the delay it was given and tries again, for 30 s at the most.
inline std::string Login(authv1::AuthService::Stub& auth, const std::string& login,
                         const std::string& password) {
  authv1::LoginRequest req;
  req.set_login(login);
  req.set_password(password);
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    Call c;
    authv1::LoginResponse resp;
    auto s = auth.Login(&c.ctx, req, &resp);
    if (s.ok()) return resp.access_token();
    auto delay = RetryDelay(s);
    if (s.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED || delay.count() < 0 ||
        std::chrono::steady_clock::now() + delay > give_up) {
      throw std::runtime_error("login " + login + ": " + Describe(s));
    }
    std::this_thread::sleep_for(delay);
  }
}

struct Person {
  std::string id;
  std::string login;
  std::string token;
};

// Creates an account through ates-auth (its event reaches billing's replica
// the real way) and logs it in.
inline Person CreatePerson(authv1::AuthService::Stub& auth, const std::string& admin_token,
                           const std::string& login, Role role) {
  Call c(admin_token);
  authv1::CreateAccountResponse resp;
  auto s = auth.CreateAccount(&c.ctx, NewAccountRequest(login, role), &resp);
  if (!s.ok()) throw std::runtime_error("create " + login + ": " + Describe(s));
  return {resp.account().id(), login, Login(auth, login, "popug-pass-1")};
}

// One page's request of an account's audit log ("*": every account).
inline billv1::ListTransactionsRequest TransactionsRequest(const std::string& account,
                                                           const std::string& from,
                                                           const std::string& to, int page_size,
                                                           const std::string& page_token) {
  billv1::ListTransactionsRequest req;
  req.set_account_id(account);
  req.set_from_date(from);
  req.set_to_date(to);
  req.set_page_size(page_size);
  req.set_page_token(page_token);
  return req;
}

// All pages of an account's audit log for a date range.
inline std::vector<billv1::Transaction> AllTransactions(billv1::BillingService::Stub& stub,
                                                        const std::string& token,
                                                        const std::string& account,
                                                        const std::string& from,
                                                        const std::string& to, int page_size = 0) {
  std::vector<billv1::Transaction> out;
  std::string page_token;
  for (int guard = 0; guard < 1000; ++guard) {
    Call c(token);
    auto req = TransactionsRequest(account, from, to, page_size, page_token);
    billv1::ListTransactionsResponse resp;
    auto s = stub.ListTransactions(&c.ctx, req, &resp);
    if (!s.ok()) throw std::runtime_error("ListTransactions: " + Describe(s));
    for (const auto& t : resp.transactions()) out.push_back(t);
    page_token = resp.next_page_token();
    if (page_token.empty()) break;
  }
  return out;
}

// The audit log is in posting order; postings of one batch may be in any
// order among themselves, so tests compare it in order of occurrence.
inline std::vector<billv1::Transaction> ByTime(std::vector<billv1::Transaction> log) {
  std::stable_sort(log.begin(), log.end(), [](const auto& a, const auto& b) {
    return google::protobuf::util::TimeUtil::TimestampToNanoseconds(a.occurred_at()) <
           google::protobuf::util::TimeUtil::TimestampToNanoseconds(b.occurred_at());
  });
  return log;
}

inline int64_t BalanceOf(billv1::BillingService::Stub& stub, const std::string& token,
                         const std::string& account) {
  Call c(token);
  billv1::GetBalanceRequest req;
  req.set_account_id(account);
  billv1::GetBalanceResponse resp;
  auto s = stub.GetBalance(&c.ctx, req, &resp);
  if (!s.ok()) throw std::runtime_error("GetBalance: " + Describe(s));
  return resp.balance_cents();
}

// --- database --------------------------------------------------------------

inline pg::Result Query(const std::string& url, std::string_view sql,
                        const pg::Params& params = {}) {
  pg::Connection c(url);
  return c.Exec(sql, params);
}

// True once the durable consumer has nothing pending or unacknowledged.
inline bool ConsumerIdle(JsClient& js, const std::string& stream, const std::string& durable) {
  auto st = js.Consumer(stream, durable);
  return st && st->num_pending == 0 && st->num_ack_pending == 0;
}

// Waits until billing has applied everything on its streams and published its
// own events. Returns false on timeout.
inline bool BillingQuiet(JsClient& js, const std::string& billing_db,
                         const std::string& durable_prefix = "billing",
                         std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  return Eventually(
      [&] {
        return ConsumerIdle(js, "TASKS", durable_prefix + "_tasks") &&
               ConsumerIdle(js, "SCHEDULE", durable_prefix + "_schedule") &&
               ConsumerIdle(js, "ACCOUNTS", durable_prefix + "_accounts") &&
               QueryInt(billing_db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0;
      },
      timeout, std::chrono::milliseconds(25));
}

// Messages of a stream, read incrementally (each call reads only new ones).
class StreamCache {
 public:
  StreamCache(JsClient& js, std::string stream) : js_(js), stream_(std::move(stream)) {}
  const std::vector<StreamMessage>& Refresh() {
    auto fresh = js_.Read(stream_, next_);
    for (auto& m : fresh) {
      next_ = m.seq + 1;
      messages_.push_back(std::move(m));
    }
    return messages_;
  }

 private:
  JsClient& js_;
  std::string stream_;
  uint64_t next_ = 1;
  std::vector<StreamMessage> messages_;
};

// The ledger invariants of one billing database, against the model of every
// posting event published to it. Adds gtest failures; call after BillingQuiet.
inline void CheckLedgerInvariants(const std::string& db_url, const LedgerModel& model,
                                  billv1::BillingService::Stub& stub,
                                  const std::string& accountant_token,
                                  StreamCache& billing_events) {
  pg::Connection db(db_url);
  const pg::Params company{pg::Text(kCompanyAccount)};

  // Double entry: everything sums to zero, company included, and every
  // transaction has exactly its two entries.
  EXPECT_EQ(db.Exec("SELECT COALESCE(sum(amount_cents), 0) FROM ledger_entries").Int(0, 0), 0)
      << "ledger entries do not sum to zero";
  EXPECT_EQ(db.Exec("SELECT count(*) FROM transactions t WHERE"
                    " (SELECT count(*) FROM ledger_entries e WHERE e.transaction_id = t.id) <> 2"
                    " OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id"
                    "   AND e.account_id = t.account_id AND e.amount_cents = t.amount_cents)"
                    " OR NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id"
                    "   AND e.account_id = $1::uuid AND e.amount_cents = -t.amount_cents)",
                    company)
                .Int(0, 0),
            0)
      << "a transaction without exactly its entry and the company's counter-entry";

  // Every balance is the sum of that account's entries (and no entries without a balance).
  auto bad_balances = db.Exec(
      "SELECT COALESCE(b.account_id, e.account_id)::text, b.balance_cents, e.s"
      " FROM (SELECT account_id, sum(amount_cents) AS s FROM ledger_entries GROUP BY 1) e"
      " FULL JOIN balances b ON b.account_id = e.account_id"
      " WHERE COALESCE(e.s, 0) <> COALESCE(b.balance_cents, 0)");
  for (int i = 0; i < bad_balances.Rows(); ++i) {
    ADD_FAILURE() << "balance of " << bad_balances.String(i, 0) << " is "
                  << bad_balances.String(i, 1) << " but its entries sum to "
                  << bad_balances.String(i, 2);
  }

  // Each balance is what was posted after the business day of the account's
  // last payout (a payout takes exactly what was due at the end of its day).
  auto since_payout = db.Exec(
      "WITH lp AS (SELECT account_id, max(business_date) AS d FROM payouts GROUP BY 1)"
      " SELECT b.account_id::text, b.balance_cents, COALESCE((SELECT sum(t.amount_cents)"
      "   FROM transactions t WHERE t.account_id = b.account_id AND t.kind <> 'payout'"
      "   AND t.business_date > COALESCE(lp.d, '-infinity'::date)), 0)"
      " FROM balances b LEFT JOIN lp ON lp.account_id = b.account_id"
      " WHERE b.account_id <> $1::uuid",
      company);
  for (int i = 0; i < since_payout.Rows(); ++i) {
    EXPECT_EQ(since_payout.Int(i, 1), since_payout.Int(i, 2))
        << "balance of " << since_payout.String(i, 0)
        << " differs from its postings since its last payout";
  }

  // Payouts: positive, one payout transaction each (same id, same day), one e-mail row each.
  EXPECT_EQ(db.Exec("SELECT count(*) FROM payouts p WHERE p.amount_cents <= 0"
                    " OR NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = p.id"
                    "   AND t.kind = 'payout' AND t.account_id = p.account_id"
                    "   AND t.amount_cents = -p.amount_cents AND t.business_date = p.business_date)"
                    " OR (SELECT count(*) FROM payout_emails m WHERE m.payout_id = p.id) <> 1")
                .Int(0, 0),
            0)
      << "a payout without its transaction or e-mail";
  EXPECT_EQ(db.Exec("SELECT count(*) FROM transactions t WHERE t.kind = 'payout'"
                    " AND NOT EXISTS (SELECT 1 FROM payouts p WHERE p.id = t.id)")
                .Int(0, 0),
            0)
      << "a payout transaction without a payout";

  // Prices in range, once per task.
  EXPECT_EQ(db.Exec("SELECT count(*) FROM task_prices WHERE assign_fee_cents NOT BETWEEN 1000"
                    " AND 2000 OR completion_reward_cents NOT BETWEEN 2000 AND 4000")
                .Int(0, 0),
            0);
  std::map<std::string, std::pair<int64_t, int64_t>> prices;
  auto pr =
      db.Exec("SELECT task_id::text, assign_fee_cents, completion_reward_cents FROM task_prices");
  for (int i = 0; i < pr.Rows(); ++i) prices[pr.String(i, 0)] = {pr.Int(i, 1), pr.Int(i, 2)};

  // One debit per assigned event and one credit per completed event: the
  // transactions of each kind are exactly the model's events, by id.
  auto expected = model.Postings();
  std::map<std::string, std::map<std::string, int64_t>> per_day;  // date -> fees/rewards
  auto tx = db.Exec(
      "SELECT id::text, kind, account_id::text, task_id::text, amount_cents, business_date::text"
      " FROM transactions WHERE kind <> 'payout'");
  std::set<std::string> seen;
  for (int i = 0; i < tx.Rows(); ++i) {
    std::string id = tx.String(i, 0);
    seen.insert(id);
    auto it = expected.find(id);
    if (it == expected.end()) {
      ADD_FAILURE() << tx.String(i, 1) << " transaction " << id << " has no published event";
      continue;
    }
    const auto& want = it->second;
    EXPECT_EQ(tx.String(i, 1), want.kind) << id;
    EXPECT_EQ(tx.String(i, 2), want.account_id) << id;
    EXPECT_EQ(tx.String(i, 3), want.task_id) << id;
    EXPECT_EQ(tx.String(i, 5), want.business_date) << "business day of " << want.kind << " " << id;
    auto price = prices.find(want.task_id);
    if (price == prices.end()) {
      ADD_FAILURE() << "task " << want.task_id << " was posted but not priced";
      continue;
    }
    int64_t amount = want.kind == "assign_fee" ? -price->second.first : price->second.second;
    EXPECT_EQ(tx.Int(i, 4), amount) << want.kind << " " << id;
  }
  for (const auto& [id, want] : expected) {
    EXPECT_TRUE(seen.count(id)) << "no " << want.kind << " transaction for event " << id;
    auto price = prices.find(want.task_id);
    if (price == prices.end()) continue;
    auto& day = per_day[want.business_date];
    if (want.kind == "assign_fee") {
      day["fees"] += price->second.first;
    } else {
      day["rewards"] += price->second.second;
    }
  }

  // Management earnings per day = fees - rewards of that day, from the model.
  if (!per_day.empty()) {
    std::string from = per_day.begin()->first, to = per_day.rbegin()->first;
    Call c(accountant_token);
    billv1::GetManagementEarningsRequest req;
    req.set_from_date(from);
    req.set_to_date(to);
    billv1::GetManagementEarningsResponse resp;
    auto s = stub.GetManagementEarnings(&c.ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << Describe(s);
    int days = platform::DaysBetween(*platform::ParseDate(from), *platform::ParseDate(to)) + 1;
    EXPECT_EQ(resp.days_size(), days);
    for (const auto& d : resp.days()) {
      auto it = per_day.find(d.business_date());
      int64_t fees = it == per_day.end() ? 0 : it->second["fees"];
      int64_t rewards = it == per_day.end() ? 0 : it->second["rewards"];
      EXPECT_EQ(d.fees_charged_cents(), fees) << d.business_date();
      EXPECT_EQ(d.rewards_paid_cents(), rewards) << d.business_date();
      EXPECT_EQ(d.earnings_cents(), fees - rewards) << d.business_date();
    }
  }

  // Billing's own events: one billing.task.priced per priced task with its
  // stored price, one transaction.applied per transaction, one payout.made per payout.
  std::map<std::string, int> priced_count, applied_count, payout_count;
  for (const auto& m : billing_events.Refresh()) {
    if (m.subject == "billing.task.priced") {
      bev1::TaskPriced p;
      ASSERT_TRUE(p.ParseFromString(m.data));
      ++priced_count[p.task_id()];
      auto it = prices.find(p.task_id());
      if (it != prices.end()) {
        EXPECT_EQ(p.assign_fee_cents(), it->second.first) << p.task_id();
        EXPECT_EQ(p.completion_reward_cents(), it->second.second) << p.task_id();
      }
    } else if (m.subject == "billing.transaction.applied") {
      bev1::TransactionApplied t;
      ASSERT_TRUE(t.ParseFromString(m.data));
      ++applied_count[t.transaction_id()];
    } else if (m.subject == "billing.payout.made") {
      bev1::PayoutMade p;
      ASSERT_TRUE(p.ParseFromString(m.data));
      ++payout_count[p.payout_id()];
    }
  }
  for (const auto& [task, price] : prices) {
    EXPECT_EQ(priced_count[task], 1) << "billing.task.priced events for task " << task;
  }
  EXPECT_EQ(priced_count.size(), prices.size()) << "billing.task.priced for unknown tasks";
  auto all_tx = db.Exec("SELECT id::text FROM transactions");
  for (int i = 0; i < all_tx.Rows(); ++i) {
    EXPECT_EQ(applied_count[all_tx.String(i, 0)], 1)
        << "billing.transaction.applied events for " << all_tx.String(i, 0);
  }
  EXPECT_EQ(applied_count.size(), static_cast<size_t>(all_tx.Rows()));
  auto payouts = db.Exec("SELECT id::text FROM payouts");
  for (int i = 0; i < payouts.Rows(); ++i) {
    EXPECT_EQ(payout_count[payouts.String(i, 0)], 1)
        << "billing.payout.made events for " << payouts.String(i, 0);
  }
  EXPECT_EQ(payout_count.size(), static_cast<size_t>(payouts.Rows()));
}

// --- one billing system per test binary ----------------------------------

// ates-auth and ates-billing on the binary's private stack, shared by every test
// of the binary (one billing database, one mail folder). Tests keep apart by
// fresh accounts, tasks and business days (NewDays hands out days after every
// day handed out before, so a close in one test never closes a later test's day).
class BillingWorld {
 public:
  static BillingWorld& Get() {
    auto& w = Slot();
    if (!w) {
      if (!StartError().empty()) throw std::runtime_error(StartError());
      try {
        w.reset(new BillingWorld());
      } catch (const std::exception& e) {
        StartError() = e.what();
        throw;
      }
    }
    return *w;
  }
  static void Reset() { Slot().reset(); }

  // The first of `n` consecutive business days no test has used.
  std::string NewDays(int n) {
    std::lock_guard lock(mu_);
    std::string first = next_day_;
    next_day_ = AddDays(next_day_, n + 1);
    return first;
  }

  // A made-up worker, announced on ACCOUNTS so billing knows its e-mail address.
  std::string NewWorker() {
    std::string id = events::NewUuid();
    auto r = Publish(*js, AccountCreatedEv(id, LoginOf(id)));
    EXPECT_FALSE(r.duplicate);
    return id;
  }
  static std::string LoginOf(const std::string& id) { return "w-" + id.substr(24); }
  static std::string EmailOf(const std::string& id) { return LoginOf(id) + "@example.com"; }

  // Publishes and records the posting the event must cause.
  PublishResult Send(const Ev& e) {
    model.Record(e);
    return Publish(*js, e);
  }
  void SendAll(const std::vector<Ev>& events) {
    for (const auto& e : events) Send(e);
  }

  bool Quiet() { return BillingQuiet(*js, billing_db); }

  int64_t Balance(const std::string& account) {
    return QueryInt(
        billing_db,
        "SELECT COALESCE((SELECT balance_cents FROM balances WHERE account_id = $1), 0)",
        {pg::Text(account)});
  }
  // fee and reward of a task as stored; {0, 0} when not priced.
  std::pair<int64_t, int64_t> Price(const std::string& task) {
    auto r = Query(billing_db,
                   "SELECT assign_fee_cents, completion_reward_cents FROM task_prices"
                   " WHERE task_id = $1",
                   {pg::Text(task)});
    return r.Rows() == 0 ? std::pair<int64_t, int64_t>{0, 0}
                         : std::pair<int64_t, int64_t>{r.Int(0, 0), r.Int(0, 1)};
  }

  // Every payout has its e-mail file (payout-<id>.eml) with the amount, and
  // there are no other e-mail files.
  void CheckMail() {
    auto payouts =
        Query(billing_db, "SELECT id::text, amount_cents, business_date::text FROM payouts");
    bool all_sent = Eventually(
        [&] {
          return QueryInt(billing_db, "SELECT count(*) FROM payout_emails WHERE sent_at IS NULL") ==
                 0;
        },
        std::chrono::seconds(15));
    EXPECT_TRUE(all_sent) << "payout e-mails not sent";
    for (int i = 0; i < payouts.Rows(); ++i) {
      auto path = mail_dir + "/payout-" + payouts.String(i, 0) + ".eml";
      ASSERT_TRUE(std::filesystem::exists(path)) << path;
      auto text = ReadFile(path);
      EXPECT_NE(text.find("$" + Dollars(payouts.Int(i, 1))), std::string::npos) << text;
      EXPECT_NE(text.find(payouts.String(i, 2)), std::string::npos) << text;
    }
    int files = 0;
    std::error_code ec;
    for (const auto& f : std::filesystem::directory_iterator(mail_dir, ec)) {
      if (f.path().extension() == ".eml") ++files;
    }
    EXPECT_EQ(files, payouts.Rows()) << "e-mail files vs payouts";
  }

  void CheckInvariants() {
    ASSERT_TRUE(Quiet()) << "billing did not catch up";
    CheckLedgerInvariants(billing_db, model, *stub, accountant.token, *billing_events);
    CheckMail();
  }

  std::string auth_db, billing_db, mail_dir;
  std::unique_ptr<Daemon> auth, billing;
  std::unique_ptr<JsClient> js;
  std::unique_ptr<authv1::AuthService::Stub> auth_stub;
  std::unique_ptr<billv1::BillingService::Stub> stub;
  std::string admin_token;
  Person accountant;
  LedgerModel model;
  std::unique_ptr<StreamCache> billing_events;

 private:
  static std::unique_ptr<BillingWorld>& Slot() {
    static std::unique_ptr<BillingWorld> world;
    return world;
  }
  static std::string& StartError() {
    static std::string error;
    return error;
  }

  BillingWorld() {
    auto& stack = TestStack::Get();
    js = std::make_unique<JsClient>(stack.nats_url());
    auth_db = stack.CreateDatabase("billing_auth");
    billing_db = stack.CreateDatabase("billing");
    mail_dir = stack.dir() + "/mail";
    auth = std::make_unique<Daemon>(
        AuthDaemon("ates-auth", auth_db, {{"ATES_NATS_DUPLICATE_WINDOW", kDuplicateWindow}}));
    auth->Start();
    // A poison task event is parked at its second attempt (dead-letter tests).
    billing =
        std::make_unique<Daemon>(BillingDaemon("ates-billing", billing_db, auth->target(), mail_dir,
                                               {{"ATES_CONSUMERS_TASKS_MAX_DELIVER", "2"}}));
    billing->Start();
    auth_stub = authv1::AuthService::NewStub(auth->channel());
    stub = billv1::BillingService::NewStub(billing->channel());
    admin_token = Login(*auth_stub, kAdminLogin, kAdminPassword);
    accountant =
        CreatePerson(*auth_stub, admin_token, "accountant-1", ::ates::common::v1::ROLE_ACCOUNTANT);
    for (const char* s : {"ACCOUNTS", "TASKS", "BILLING", "SCHEDULE"}) {
      if (!Eventually([&] { return js->StreamExists(s); })) {
        throw std::runtime_error(std::string("stream ") + s + " not created");
      }
    }
    billing_events = std::make_unique<StreamCache>(*js, "BILLING");
  }

  std::mutex mu_;
  std::string next_day_ = "2026-01-05";
};

// Base of the billing tests: the shared world, and the invariants after every test.
class BillingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      world_ = &BillingWorld::Get();
    } catch (const std::exception& e) {
      FAIL() << "billing test system did not start: " << e.what();
    }
  }
  void TearDown() override {
    if (world_ != nullptr) world_->CheckInvariants();
  }
  BillingWorld& w() { return *world_; }

  BillingWorld* world_ = nullptr;
};

// Stops the shared daemons before the test main stops PostgreSQL and NATS.
class BillingWorldEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { BillingWorld::Reset(); }
};

}  // namespace ates::test
