#include "faults/reconcile.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "ates/events/tasks/v1/task_events.pb.h"
#include "ates/events/tasks/v2/task_events.pb.h"
#include "ates/platform/events.hpp"
#include "ates/platform/pg.hpp"

namespace ates::test::faults {
namespace {

namespace tev1 = ::ates::events::tasks::v1;
namespace tev2 = ::ates::events::tasks::v2;

constexpr const char* kCompanyAccount = "00000000-0000-0000-0000-000000000001";
constexpr size_t kExamples = 5;  // per kind of problem

constexpr std::string_view kPostings =
    "SELECT id::text, kind, account_id::text, COALESCE(task_id::text, ''), amount_cents"
    " FROM transactions WHERE kind <> 'payout'";
constexpr std::string_view kPrices =
    "SELECT task_id::text, assign_fee_cents, completion_reward_cents FROM task_prices";
// Entries per transaction beyond its own and the company's counter-entry: an
// event applied twice under one id would add a second pair.
constexpr std::string_view kEntriesPerTransaction =
    "SELECT t.id::text, t.kind, count(e.id),"
    " count(*) FILTER (WHERE e.account_id = t.account_id AND e.amount_cents = t.amount_cents),"
    " count(*) FILTER (WHERE e.account_id = $1::uuid AND e.amount_cents = -t.amount_cents)"
    " FROM transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id"
    " GROUP BY t.id, t.kind, t.account_id, t.amount_cents"
    " HAVING count(e.id) <> 2"
    "  OR count(*) FILTER (WHERE e.account_id = t.account_id"
    "                      AND e.amount_cents = t.amount_cents) <> 1"
    "  OR count(*) FILTER (WHERE e.account_id = $1::uuid AND e.amount_cents = -t.amount_cents) <> "
    "1";
constexpr std::string_view kEntriesSum =
    "SELECT COALESCE(sum(amount_cents), 0) FROM ledger_entries";
constexpr std::string_view kBalancesSum = "SELECT COALESCE(sum(balance_cents), 0) FROM balances";
constexpr std::string_view kEntriesWithoutTransaction =
    "SELECT count(*) FROM ledger_entries e"
    " WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = e.transaction_id)";
constexpr std::string_view kBalancesVsEntries =
    "SELECT COALESCE(b.account_id, e.account_id)::text, COALESCE(b.balance_cents, 0),"
    " COALESCE(e.s, 0)"
    " FROM (SELECT account_id, sum(amount_cents) AS s FROM ledger_entries GROUP BY 1) e"
    " FULL JOIN balances b ON b.account_id = e.account_id"
    " WHERE COALESCE(e.s, 0) <> COALESCE(b.balance_cents, 0)";
constexpr std::string_view kPricesOutOfRange =
    "SELECT count(*) FROM task_prices WHERE assign_fee_cents NOT BETWEEN 1000 AND 2000"
    " OR completion_reward_cents NOT BETWEEN 2000 AND 4000";
constexpr std::string_view kAllTransactions =
    "SELECT id::text, kind, account_id::text, amount_cents, business_date::text FROM transactions";
constexpr std::string_view kBalances =
    "SELECT account_id::text, balance_cents FROM balances WHERE account_id <> $1::uuid";
constexpr std::string_view kClosedDays =
    "SELECT business_date::text FROM billing_cycles ORDER BY business_date";
constexpr std::string_view kPayouts =
    "SELECT p.id::text, p.account_id::text, p.business_date::text, p.amount_cents,"
    " (SELECT count(*) FROM payout_emails m WHERE m.payout_id = p.id),"
    " (SELECT count(*) FROM payout_emails m WHERE m.payout_id = p.id AND m.sent_at IS NOT NULL)"
    " FROM payouts p";
constexpr std::string_view kTasks =
    "SELECT id::text, status, version, assignee_id::text FROM tasks";
constexpr std::string_view kRewardedTasks =
    "SELECT DISTINCT task_id::text FROM transactions WHERE kind = 'completion_reward'";
constexpr std::string_view kAnalyticsDays =
    "SELECT business_date::text, fees_cents, rewards_cents FROM day_earnings";
constexpr std::string_view kAnalyticsTotals =
    "SELECT account_id::text, business_date::text, amount_cents FROM account_day_totals";
constexpr std::string_view kAnalyticsTasks =
    "SELECT task_id::text, COALESCE(fee_cents, -1), COALESCE(reward_cents, -1),"
    " completed_at IS NOT NULL FROM task_facts";
constexpr std::string_view kDeadLetters =
    "SELECT CASE WHEN to_regclass('dead_letters') IS NULL THEN 0"
    " ELSE (SELECT count(*) FROM dead_letters) END";
constexpr std::string_view kDeadLetterSample =
    "SELECT consumer || ' ' || subject || ' ' || event_id || ': ' || reason FROM dead_letters"
    " LIMIT 3";

struct StreamEvent {
  std::string kind;  // assigned | completed
  std::string task_id;
  std::string account_id;
  uint64_t seq = 0;
};

// Per task and kind: ids of the events on the stream.
struct TaskEvents {
  bool created = false;
  std::set<std::string> assigned, completed;
  std::string last_assignee;  // from the last assigned event in stream order
};

class Report {
 public:
  explicit Report(Reconciliation& r) : r_(r) {}
  void Note(const std::string& kind, const std::string& text) {
    if (++seen_[kind] <= kExamples) r_.problems.push_back(kind + ": " + text);
  }

 private:
  Reconciliation& r_;
  std::map<std::string, size_t> seen_;
};

void ReadStream(const std::vector<StreamMessage>& stream, Reconciliation& r,
                std::map<std::string, StreamEvent>& events,
                std::map<std::string, TaskEvents>& tasks, Report& report) {
  std::set<std::string> ids;
  for (const auto& m : stream) {
    ++r.stream_messages;
    const std::string id = m.Header(events::kHeaderMsgId);
    if (!ids.insert(id).second) {
      ++r.duplicate_copies;
      continue;
    }
    const std::string version = m.Header(events::kHeaderVersion);
    if (m.subject == "tasks.task.created") {
      std::string task;
      if (version == "2") {
        tev2::TaskCreated c;
        if (c.ParseFromString(m.data)) task = c.task_id();
      } else if (version == "1") {
        tev1::TaskCreated c;
        if (c.ParseFromString(m.data)) task = c.task_id();
      }
      if (task.empty()) {
        ++r.undecodable;
        report.Note("undecodable", "seq " + std::to_string(m.seq) + " " + m.subject);
        continue;
      }
      tasks[task].created = true;
    } else if (m.subject == "tasks.task.assigned" && version == "1") {
      tev1::TaskAssigned a;
      if (!a.ParseFromString(m.data)) {
        ++r.undecodable;
        report.Note("undecodable", "seq " + std::to_string(m.seq) + " " + m.subject);
        continue;
      }
      events[id] = {"assigned", a.task_id(), a.assignee_id(), m.seq};
      tasks[a.task_id()].assigned.insert(id);
      tasks[a.task_id()].last_assignee = a.assignee_id();
      ++r.assigned_events;
    } else if (m.subject == "tasks.task.completed" && version == "1") {
      tev1::TaskCompleted c;
      if (!c.ParseFromString(m.data)) {
        ++r.undecodable;
        report.Note("undecodable", "seq " + std::to_string(m.seq) + " " + m.subject);
        continue;
      }
      events[id] = {"completed", c.task_id(), c.assignee_id(), m.seq};
      tasks[c.task_id()].completed.insert(id);
      ++r.completed_events;
    } else {
      ++r.undecodable;
      report.Note("undecodable", "seq " + std::to_string(m.seq) + " " + m.subject + " v" + version);
    }
  }
  for (const auto& [task, te] : tasks) r.tasks_created += te.created;
}

// Every assigned event has exactly one fee posting and every completed event
// exactly one reward posting, with the right account, task and amount.
void ReconcilePostings(pg::Connection& billing, const std::map<std::string, StreamEvent>& events,
                       const std::map<std::string, TaskEvents>& tasks, Reconciliation& r,
                       Report& report) {
  std::map<std::string, std::pair<int64_t, int64_t>> prices;
  auto pr = billing.Exec(kPrices);
  for (int i = 0; i < pr.Rows(); ++i) prices[pr.String(i, 0)] = {pr.Int(i, 1), pr.Int(i, 2)};

  struct Tx {
    std::string kind, account, task;
    int64_t amount = 0;
  };
  std::map<std::string, Tx> txs;
  std::map<std::pair<std::string, std::string>, int64_t> per_task_kind;  // (task, kind) -> n
  auto rows = billing.Exec(kPostings);
  for (int i = 0; i < rows.Rows(); ++i) {
    Tx t{rows.String(i, 1), rows.String(i, 2), rows.String(i, 3), rows.Int(i, 4)};
    ++per_task_kind[{t.task, t.kind}];
    txs.emplace(rows.String(i, 0), std::move(t));
  }
  r.postings = static_cast<int64_t>(txs.size());

  for (const auto& [id, e] : events) {
    auto it = txs.find(id);
    const std::string want_kind = e.kind == "assigned" ? "assign_fee" : "completion_reward";
    if (it == txs.end()) {
      ++r.missing;
      report.Note("missing", "no " + want_kind + " for tasks.task." + e.kind + " " + id +
                                 " (stream seq " + std::to_string(e.seq) + ", task " + e.task_id +
                                 ")");
      continue;
    }
    const Tx& t = it->second;
    auto price = prices.find(e.task_id);
    int64_t want_amount = price == prices.end()       ? 0
                          : want_kind == "assign_fee" ? -price->second.first
                                                      : price->second.second;
    if (t.kind != want_kind || t.account != e.account_id || t.task != e.task_id ||
        price == prices.end() || t.amount != want_amount) {
      ++r.wrong;
      report.Note("wrong", "posting " + id + " is " + t.kind + " " + std::to_string(t.amount) +
                               " for " + t.account + " on task " + t.task + "; the event says " +
                               want_kind + " " + std::to_string(want_amount) + " for " +
                               e.account_id + " on task " + e.task_id);
    }
  }
  for (const auto& [id, t] : txs) {
    if (events.count(id)) continue;
    ++r.orphans;
    report.Note("orphan", t.kind + " " + id + " on task " + t.task + " has no event on TASKS");
  }
  // More postings of a kind for a task than the task has events of that kind:
  // the same fact applied twice under another id.
  for (const auto& [key, n] : per_task_kind) {
    auto te = tasks.find(key.first);
    int64_t have = 0;
    if (te != tasks.end()) {
      have = static_cast<int64_t>(key.second == "assign_fee" ? te->second.assigned.size()
                                                             : te->second.completed.size());
    }
    if (n > have && have > 0) {
      r.doubled += n - have;
      report.Note("doubled", std::to_string(n) + " " + key.second + " postings for task " +
                                 key.first + ", which has " + std::to_string(have) + " events");
    }
  }
  // One id, more than one application: more than its two ledger entries.
  auto entries = billing.Exec(kEntriesPerTransaction, {pg::Text(kCompanyAccount)});
  for (int i = 0; i < entries.Rows(); ++i) {
    int64_t own = entries.Int(i, 3);
    if (own > 1) {
      r.doubled += own - 1;
      report.Note("doubled", entries.String(i, 1) + " " + entries.String(i, 0) + " has " +
                                 entries.String(i, 2) + " ledger entries");
    } else {
      ++r.ledger_errors;
      report.Note("ledger", "transaction " + entries.String(i, 0) + " has " + entries.String(i, 2) +
                                " ledger entries, not its own and the company's counter-entry");
    }
  }
  // Every task billing heard of is priced (a posting joins its price).
  for (const auto& [task, te] : tasks) {
    if ((!te.assigned.empty() || !te.completed.empty()) && !prices.count(task)) {
      ++r.ledger_errors;
      report.Note("ledger", "task " + task + " has events but no price");
    }
  }
}

// Double entry, balances = entries = postings since the last payout.
void CheckLedger(pg::Connection& billing, Reconciliation& r, Report& report) {
  int64_t sum = billing.Exec(kEntriesSum).Int(0, 0);
  if (sum != 0) {
    ++r.ledger_errors;
    report.Note("ledger", "ledger entries sum to " + std::to_string(sum) + ", not 0");
  }
  int64_t balances = billing.Exec(kBalancesSum).Int(0, 0);
  if (balances != 0) {
    ++r.ledger_errors;
    report.Note("ledger", "balances, the company's included, sum to " + std::to_string(balances));
  }
  int64_t loose = billing.Exec(kEntriesWithoutTransaction).Int(0, 0);
  if (loose != 0) {
    r.ledger_errors += loose;
    report.Note("ledger", std::to_string(loose) + " ledger entries without a transaction");
  }
  auto bad = billing.Exec(kBalancesVsEntries);
  for (int i = 0; i < bad.Rows(); ++i) {
    ++r.ledger_errors;
    report.Note("ledger", "balance of " + bad.String(i, 0) + " is " + bad.String(i, 1) +
                              " but its entries sum to " + bad.String(i, 2));
  }
  int64_t out_of_range = billing.Exec(kPricesOutOfRange).Int(0, 0);
  if (out_of_range != 0) {
    r.ledger_errors += out_of_range;
    report.Note("ledger", std::to_string(out_of_range) + " prices out of range");
  }
}

// For every closed day D and every account: what was due at the end of D (all
// its transactions up to D, earlier payouts included, D's payout not) is paid
// out exactly once when positive, and not at all otherwise. A posting that
// reached billing after the close belongs to the next open day (ledger.cpp), so
// this holds whatever the order of the close and a backlog.
void CheckPayouts(pg::Connection& billing, Reconciliation& r, Report& report) {
  std::vector<std::string> closed;
  auto days = billing.Exec(kClosedDays);
  for (int i = 0; i < days.Rows(); ++i) closed.push_back(days.String(i, 0));
  r.closed_days = static_cast<int64_t>(closed.size());

  struct Tx {
    std::string kind, account, date;
    int64_t amount = 0;
  };
  std::vector<Tx> txs;
  std::map<std::string, Tx> payout_txs;
  auto rows = billing.Exec(kAllTransactions);
  for (int i = 0; i < rows.Rows(); ++i) {
    Tx t{rows.String(i, 1), rows.String(i, 2), rows.String(i, 4), rows.Int(i, 3)};
    if (t.kind == "payout") payout_txs[rows.String(i, 0)] = t;
    txs.push_back(std::move(t));
  }
  // (account, date) -> payout amounts
  std::map<std::pair<std::string, std::string>, std::vector<int64_t>> paid;
  auto payouts = billing.Exec(kPayouts);
  r.payouts = payouts.Rows();
  for (int i = 0; i < payouts.Rows(); ++i) {
    const std::string id = payouts.String(i, 0);
    const std::string account = payouts.String(i, 1), date = payouts.String(i, 2);
    const int64_t amount = payouts.Int(i, 3);
    paid[{account, date}].push_back(amount);
    auto t = payout_txs.find(id);
    if (t == payout_txs.end() || t->second.account != account || t->second.date != date ||
        t->second.amount != -amount) {
      ++r.payout_errors;
      report.Note("payout", "payout " + id + " has no matching payout transaction");
    }
    if (payouts.Int(i, 4) != 1) {
      ++r.payout_errors;
      report.Note("payout", "payout " + id + " has " + payouts.String(i, 4) + " e-mail rows");
    } else if (payouts.Int(i, 5) != 1) {
      ++r.unsent_emails;
      report.Note("e-mail", "payout " + id + "'s e-mail was not sent");
    }
    if (std::find(closed.begin(), closed.end(), date) == closed.end()) {
      ++r.payout_errors;
      report.Note("payout", "payout " + id + " on " + date + ", a day that is not closed");
    }
  }
  if (payout_txs.size() != static_cast<size_t>(payouts.Rows())) {
    ++r.payout_errors;
    report.Note("payout", std::to_string(payout_txs.size()) + " payout transactions for " +
                              std::to_string(payouts.Rows()) + " payouts");
  }
  std::set<std::string> accounts;
  for (const auto& t : txs) accounts.insert(t.account);
  for (const auto& day : closed) {
    for (const auto& account : accounts) {
      int64_t due = 0;
      for (const auto& t : txs) {
        if (t.account != account || t.date > day) continue;
        if (t.kind == "payout" && t.date == day) continue;
        due += t.amount;
      }
      auto it = paid.find({account, day});
      const std::vector<int64_t> none;
      const auto& got = it == paid.end() ? none : it->second;
      bool ok = due > 0 ? (got.size() == 1 && got[0] == due) : got.empty();
      if (!ok) {
        ++r.payout_errors;
        std::string amounts;
        for (auto a : got) amounts += " " + std::to_string(a);
        report.Note("payout", account + " had " + std::to_string(due) + " due at the end of " +
                                  day + " and was paid" + (amounts.empty() ? " nothing" : amounts));
      }
    }
  }
  // Every balance is the sum of the account's transactions, payouts included.
  std::map<std::string, int64_t> sums;
  for (const auto& t : txs) sums[t.account] += t.amount;
  auto balances = billing.Exec(kBalances, {pg::Text(kCompanyAccount)});
  std::set<std::string> with_balance;
  for (int i = 0; i < balances.Rows(); ++i) {
    const std::string account = balances.String(i, 0);
    with_balance.insert(account);
    if (balances.Int(i, 1) != sums[account]) {
      ++r.ledger_errors;
      report.Note("ledger", "balance of " + account + " is " + balances.String(i, 1) +
                                " but its transactions sum to " + std::to_string(sums[account]));
    }
  }
  for (const auto& [account, sum] : sums) {
    if (!with_balance.count(account)) {
      ++r.ledger_errors;
      report.Note("ledger", account + " has transactions but no balance");
    }
  }
}

// ates-tasks committed one event per change; each must be on TASKS, once.
void CheckProducer(pg::Connection& tasks_db, const std::map<std::string, TaskEvents>& stream,
                   Reconciliation& r, Report& report) {
  auto rows = tasks_db.Exec(kTasks);
  std::set<std::string> known;
  for (int i = 0; i < rows.Rows(); ++i) {
    const std::string id = rows.String(i, 0);
    known.insert(id);
    const bool completed = rows.Text(i, 1) == "completed";
    const int64_t version = rows.Int(i, 2);
    const int64_t want_assigned = version - (completed ? 1 : 0);
    const int64_t want_completed = completed ? 1 : 0;
    auto it = stream.find(id);
    const TaskEvents none;
    const TaskEvents& te = it == stream.end() ? none : it->second;
    const auto have_assigned = static_cast<int64_t>(te.assigned.size());
    const auto have_completed = static_cast<int64_t>(te.completed.size());
    int64_t lost = (te.created ? 0 : 1) + std::max<int64_t>(0, want_assigned - have_assigned) +
                   std::max<int64_t>(0, want_completed - have_completed);
    int64_t extra = std::max<int64_t>(0, have_assigned - want_assigned) +
                    std::max<int64_t>(0, have_completed - want_completed);
    if (lost > 0) {
      r.unpublished += lost;
      report.Note("unpublished", "task " + id + " (version " + std::to_string(version) + ", " +
                                     std::string(rows.Text(i, 1)) + ") has " +
                                     (te.created ? "a" : "no") + " created event, " +
                                     std::to_string(have_assigned) + " assigned and " +
                                     std::to_string(have_completed) + " completed on TASKS");
    }
    if (extra > 0) {
      r.extra_events += extra;
      report.Note("extra event", "task " + id + " (version " + std::to_string(version) + ") has " +
                                     std::to_string(have_assigned) + " assigned and " +
                                     std::to_string(have_completed) + " completed on TASKS");
    }
    if (have_assigned > 0 && te.last_assignee != rows.String(i, 3) && extra == 0 && lost == 0) {
      ++r.extra_events;
      report.Note("extra event", "task " + id + " is assigned to " + rows.String(i, 3) +
                                     " but its last assigned event names " + te.last_assignee);
    }
  }
  for (const auto& [task, te] : stream) {
    if (known.count(task)) continue;
    r.extra_events += te.created + static_cast<int64_t>(te.assigned.size() + te.completed.size());
    report.Note("extra event", "task " + task + " is on TASKS but not in ates-tasks");
  }
}

// Analytics' read models hold what billing holds: earnings per day, net
// postings per account and day (payouts included), prices and completions.
void CheckAnalytics(pg::Connection& billing, pg::Connection& analytics, Reconciliation& r,
                    Report& report) {
  std::map<std::string, std::pair<int64_t, int64_t>> b_days, a_days;
  std::map<std::pair<std::string, std::string>, int64_t> b_totals, a_totals;
  auto tx = billing.Exec(kAllTransactions);
  for (int i = 0; i < tx.Rows(); ++i) {
    const std::string kind = tx.String(i, 1), date = tx.String(i, 4);
    const int64_t amount = tx.Int(i, 3);
    if (kind == "assign_fee") b_days[date].first += -amount;
    if (kind == "completion_reward") b_days[date].second += amount;
    b_totals[{tx.String(i, 2), date}] += amount;
  }
  auto ad = analytics.Exec(kAnalyticsDays);
  for (int i = 0; i < ad.Rows(); ++i) a_days[ad.String(i, 0)] = {ad.Int(i, 1), ad.Int(i, 2)};
  std::set<std::string> dates;
  for (const auto& [d, v] : b_days) dates.insert(d);
  for (const auto& [d, v] : a_days) dates.insert(d);
  for (const auto& d : dates) {
    auto b = b_days[d], a = a_days[d];
    if (a != b) {
      ++r.analytics_diffs;
      report.Note("analytics", "earnings of " + d + ": analytics fees/rewards " +
                                   std::to_string(a.first) + "/" + std::to_string(a.second) +
                                   ", billing " + std::to_string(b.first) + "/" +
                                   std::to_string(b.second));
    }
  }
  auto at = analytics.Exec(kAnalyticsTotals);
  for (int i = 0; i < at.Rows(); ++i) {
    a_totals[{at.String(i, 0), at.String(i, 1)}] += at.Int(i, 2);
  }
  std::set<std::pair<std::string, std::string>> keys;
  for (const auto& [k, v] : b_totals) keys.insert(k);
  for (const auto& [k, v] : a_totals) keys.insert(k);
  for (const auto& k : keys) {
    int64_t a = a_totals[k], b = b_totals[k];
    if (a != b) {
      ++r.analytics_diffs;
      report.Note("analytics", "net postings of " + k.first + " on " + k.second + ": analytics " +
                                   std::to_string(a) + ", billing " + std::to_string(b));
    }
  }
  std::map<std::string, std::pair<int64_t, int64_t>> b_prices;
  auto pr = billing.Exec(kPrices);
  for (int i = 0; i < pr.Rows(); ++i) b_prices[pr.String(i, 0)] = {pr.Int(i, 1), pr.Int(i, 2)};
  std::set<std::string> b_completed;
  auto rewards = billing.Exec(kRewardedTasks);
  for (int i = 0; i < rewards.Rows(); ++i) b_completed.insert(rewards.String(i, 0));
  auto af = analytics.Exec(kAnalyticsTasks);
  std::set<std::string> a_seen;
  for (int i = 0; i < af.Rows(); ++i) {
    const std::string task = af.String(i, 0);
    a_seen.insert(task);
    auto p = b_prices.find(task);
    std::pair<int64_t, int64_t> a_price{af.Int(i, 1), af.Int(i, 2)};
    if (p == b_prices.end() || p->second != a_price) {
      ++r.analytics_diffs;
      report.Note("analytics",
                  "task " + task + ": analytics price " + std::to_string(a_price.first) + "/" +
                      std::to_string(a_price.second) +
                      (p == b_prices.end() ? ", billing has no price"
                                           : ", billing " + std::to_string(p->second.first) + "/" +
                                                 std::to_string(p->second.second)));
    }
    if (af.Bool(i, 3) != (b_completed.count(task) > 0)) {
      ++r.analytics_diffs;
      report.Note("analytics", "task " + task + " is " + (af.Bool(i, 3) ? "" : "not ") +
                                   "completed in analytics but " +
                                   (b_completed.count(task) ? "has" : "has no") +
                                   " reward in billing");
    }
  }
  for (const auto& [task, p] : b_prices) {
    if (a_seen.count(task)) continue;
    ++r.analytics_diffs;
    report.Note("analytics", "task " + task + " is priced in billing but unknown to analytics");
  }
}

int64_t DeadLetters(pg::Connection& db, const std::string& name, Report& report) {
  int64_t n = db.Exec(kDeadLetters).Int(0, 0);
  if (n > 0) {
    auto sample = db.Exec(kDeadLetterSample);
    for (int i = 0; i < sample.Rows(); ++i)
      report.Note("dead letter", name + " " + sample.String(i, 0));
  }
  return n;
}

}  // namespace

std::string Reconciliation::Summary() const {
  std::ostringstream out;
  out << "events=" << Events() << " assigned=" << assigned_events
      << " completed=" << completed_events << " postings=" << postings << " missing=" << missing
      << " doubled=" << doubled << " orphans=" << orphans << " wrong=" << wrong
      << " unpublished=" << unpublished << " extra_events=" << extra_events
      << " stream_copies=" << duplicate_copies << " tasks=" << tasks_created
      << " ledger_errors=" << ledger_errors << " closed_days=" << closed_days
      << " payouts=" << payouts << " payout_errors=" << payout_errors
      << " unsent_emails=" << unsent_emails << " analytics_diffs=" << analytics_diffs
      << " dead_letters=" << dead_letters;
  return out.str();
}

Reconciliation Reconcile(const ReconcileInput& input) {
  Reconciliation r;
  Report report(r);
  std::map<std::string, StreamEvent> events;
  std::map<std::string, TaskEvents> tasks;
  ReadStream(input.tasks_stream, r, events, tasks, report);
  pg::Connection billing(input.billing_db);
  pg::Connection analytics(input.analytics_db);
  pg::Connection tasks_db(input.tasks_db);
  ReconcilePostings(billing, events, tasks, r, report);
  CheckLedger(billing, r, report);
  CheckPayouts(billing, r, report);
  CheckProducer(tasks_db, tasks, r, report);
  CheckAnalytics(billing, analytics, r, report);
  r.dead_letters = DeadLetters(tasks_db, "ates-tasks", report) +
                   DeadLetters(billing, "ates-billing", report) +
                   DeadLetters(analytics, "ates-analytics", report);
  return r;
}

}  // namespace ates::test::faults
