#include "ledger.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <map>
#include <set>

#include "ates/events/billing/v1/billing_events.pb.h"
#include "ates/events/schedule/v1/schedule_events.pb.h"
#include "ates/events/tasks/v1/task_events.pb.h"
#include "ates/events/tasks/v2/task_events.pb.h"
#include "ates/platform/events.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/outbox.hpp"

namespace ates::billing {
namespace {

namespace t1 = ::ates::events::tasks::v1;
namespace t2 = ::ates::events::tasks::v2;
namespace b1 = ::ates::events::billing::v1;
namespace s1 = ::ates::events::schedule::v1;
using google::protobuf::util::TimeUtil;

// Postings wait for a close to finish (shared vs exclusive), so a close sees
// every posting of the days it closes and no posting lands in a closed day.
constexpr std::string_view kPostingLock = "SELECT pg_advisory_xact_lock_shared(4242100)";
constexpr std::string_view kCloseLock = "SELECT pg_advisory_xact_lock(4242100)";

constexpr std::string_view kPriceTasks =
    "INSERT INTO task_prices (task_id, assign_fee_cents, completion_reward_cents)"
    " SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::bigint[])"
    " ON CONFLICT (task_id) DO NOTHING"
    " RETURNING task_id, assign_fee_cents, completion_reward_cents,"
    " EXTRACT(EPOCH FROM priced_at)::float8";

constexpr std::string_view kDescribeTasks =
    "UPDATE task_prices p SET title = u.title, jira_id = u.jira_id"
    " FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(task_id, title, jira_id)"
    " WHERE p.task_id = u.task_id";

// Fees (assigned) and rewards (completed) with their counter-entries, balances
// and day totals, in one statement. Returns the postings that are new.
constexpr std::string_view kPost =
    "WITH ev AS ("
    "  SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::timestamptz[])"
    "  AS e(id, kind, account_id, task_id, occurred_at)),"
    " last_closed AS (SELECT max(business_date) AS d FROM billing_cycles),"
    " ins AS ("
    "  INSERT INTO transactions (id, kind, account_id, task_id, amount_cents, business_date,"
    "   occurred_at)"
    "  SELECT ev.id, ev.kind, ev.account_id, ev.task_id,"
    "   CASE WHEN ev.kind = 'assign_fee' THEN -p.assign_fee_cents"
    "        ELSE p.completion_reward_cents END,"
    "   GREATEST((ev.occurred_at AT TIME ZONE $6)::date,"
    "            COALESCE((SELECT d FROM last_closed) + 1, '-infinity'::date)),"
    "   ev.occurred_at"
    "  FROM ev JOIN task_prices p ON p.task_id = ev.task_id"
    "  ORDER BY ev.occurred_at, ev.id"  // the audit log (by seq) reads in time order
    "  ON CONFLICT (id) DO NOTHING"
    "  RETURNING id, kind, account_id, task_id, amount_cents, business_date, occurred_at),"
    " le AS ("
    "  INSERT INTO ledger_entries (transaction_id, account_id, amount_cents)"
    "  SELECT id, account_id, amount_cents FROM ins"
    "  UNION ALL SELECT id, $7::uuid, -amount_cents FROM ins),"
    " bal AS ("
    "  INSERT INTO balances (account_id, balance_cents)"
    "  SELECT account_id, sum(amount) FROM ("
    "   SELECT account_id, amount_cents AS amount FROM ins"
    "   UNION ALL SELECT $7::uuid, -amount_cents FROM ins) x"
    "  GROUP BY account_id ORDER BY account_id"  // one lock order for every writer
    "  ON CONFLICT (account_id) DO UPDATE"
    "  SET balance_cents = balances.balance_cents + EXCLUDED.balance_cents),"
    " dt AS ("
    "  INSERT INTO daily_totals (account_id, business_date, amount_cents)"
    "  SELECT account_id, business_date, sum(amount_cents) FROM ins GROUP BY 1, 2 ORDER BY 1, 2"
    "  ON CONFLICT (account_id, business_date) DO UPDATE"
    "  SET amount_cents = daily_totals.amount_cents + EXCLUDED.amount_cents)"
    " SELECT id, kind, account_id, task_id, amount_cents, business_date::text,"
    "  EXTRACT(EPOCH FROM occurred_at)::float8 FROM ins";

// A close must not pay out a day that has not ended: compared with
// PostgreSQL's clock in the business zone (the scheduler's may be wrong). Today
// itself may be closed (an operator closing early).
constexpr std::string_view kBusinessToday =
    "SELECT to_char((now() AT TIME ZONE $1)::date, 'YYYY-MM-DD'),"
    " $2::date > (now() AT TIME ZONE $1)::date";
constexpr std::string_view kLaterClosed =
    "SELECT 1 FROM billing_cycles WHERE business_date >= $1::date LIMIT 1";
// The days before $1 that have postings and are not closed, oldest first.
// Postings never land on a closed day (they go to the first open one), so
// these are the days after the last close that need a close of their own.
constexpr std::string_view kOpenDaysBefore =
    "SELECT DISTINCT business_date::text FROM transactions"
    " WHERE business_date < $1::date"
    "  AND business_date > COALESCE((SELECT max(business_date) FROM billing_cycles),"
    "   '-infinity'::date)"
    " ORDER BY 1";
constexpr std::string_view kRecordEmptyClose =
    "INSERT INTO billing_cycles (business_date, closed_at, close_event_id)"
    " VALUES ($1, now(), $2) ON CONFLICT DO NOTHING";

// Pays out every positive amount due at the end of $1: the balance minus the
// postings of later (still open) days. One payout per account and date. Every
// balance is looked at: one that is negative by now may still have been
// positive at the end of $1.
constexpr std::string_view kClose =
    "WITH cyc AS ("
    "  INSERT INTO billing_cycles (business_date, closed_at, close_event_id)"
    "  VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING business_date),"
    " due AS ("
    "  SELECT b.account_id, b.balance_cents - COALESCE(("
    "    SELECT sum(d.amount_cents) FROM daily_totals d"
    "    WHERE d.account_id = b.account_id AND d.business_date > $1::date), 0) AS amount"
    "  FROM balances b, cyc WHERE b.account_id <> $4::uuid),"
    " p AS ("
    "  INSERT INTO payouts (id, account_id, business_date, amount_cents, paid_at)"
    "  SELECT gen_random_uuid(), account_id, $1, amount, $2 FROM due WHERE amount > 0"
    "  ON CONFLICT (account_id, business_date) DO NOTHING"
    "  RETURNING id, account_id, amount_cents),"
    " t AS ("
    "  INSERT INTO transactions (id, kind, account_id, amount_cents, business_date, occurred_at)"
    "  SELECT id, 'payout', account_id, -amount_cents, $1, $2 FROM p),"
    " le AS ("
    "  INSERT INTO ledger_entries (transaction_id, account_id, amount_cents)"
    "  SELECT id, account_id, -amount_cents FROM p"
    "  UNION ALL SELECT id, $4::uuid, amount_cents FROM p),"
    " b AS ("
    "  UPDATE balances SET balance_cents = balances.balance_cents - x.amount"
    "  FROM (SELECT account_id, amount_cents AS amount FROM p"
    "        UNION ALL SELECT $4::uuid, -sum(amount_cents) FROM p HAVING count(*) > 0) x"
    "  WHERE balances.account_id = x.account_id),"
    " m AS ("
    "  INSERT INTO payout_emails (payout_id, account_id, amount_cents, business_date)"
    "  SELECT id, account_id, amount_cents, $1 FROM p),"
    " s AS ("
    "  UPDATE billing_cycles SET payouts = (SELECT count(*) FROM p),"
    "   paid_cents = COALESCE((SELECT sum(amount_cents) FROM p), 0)"
    "  WHERE business_date = $1::date AND EXISTS (SELECT 1 FROM cyc))"
    " SELECT id, account_id, amount_cents FROM p";

google::protobuf::Timestamp FromEpoch(std::string_view text) {
  double secs = std::stod(std::string(text));
  return TimeUtil::MicrosecondsToTimestamp(static_cast<int64_t>(secs * 1e6));
}

std::string ToText(const google::protobuf::Timestamp& ts) {
  // RFC 3339 is what PostgreSQL's timestamptz input accepts.
  return TimeUtil::ToString(ts);
}

b1::TransactionKind KindOf(std::string_view kind) {
  if (kind == "assign_fee") return b1::TRANSACTION_KIND_ASSIGN_FEE;
  if (kind == "completion_reward") return b1::TRANSACTION_KIND_COMPLETION_REWARD;
  return b1::TRANSACTION_KIND_PAYOUT;
}

// The id of the scheduler's close event for a date (it derives it the same way).
std::string CloseEventId(const std::string& business_date) {
  return events::NameUuid("schedule.billing_cycle.closed:" + business_date);
}

struct Posting {
  std::string event_id;
  std::string kind;
  std::string account_id;
  std::string task_id;
  std::string occurred_at;
};

}  // namespace

LedgerHandler::LedgerHandler(LedgerSettings settings, platform::RandomPicker& random,
                             std::function<void()> on_commit)
    : settings_(std::move(settings)), random_(random), on_commit_(std::move(on_commit)) {}

std::vector<std::pair<std::string, int>> LedgerHandler::Accepts() const {
  return {{"tasks.task.created", 1},
          {"tasks.task.created", 2},
          {"tasks.task.assigned", 1},
          {"tasks.task.completed", 1},
          {"schedule.billing_cycle.closed", 1}};
}

void LedgerHandler::Apply(pg::Transaction& tx,
                          const std::vector<const platform::InboundEvent*>& events) {
  std::set<std::string> task_ids;
  std::map<std::string, std::pair<std::string, std::string>> described;  // task -> title, jira
  std::vector<Posting> postings;
  std::vector<std::pair<std::string, std::string>> closes;  // date, event id
  for (const auto* e : events) {
    if (e->name == "tasks.task.created") {
      t2::TaskCreated created = e->version == 1
                                    ? events::UpcastTaskCreated(e->As<t1::TaskCreated>())
                                    : e->As<t2::TaskCreated>();
      if (!events::IsUuid(created.task_id())) continue;
      task_ids.insert(created.task_id());
      described[created.task_id()] = {created.title(), created.jira_id()};
    } else if (e->name == "tasks.task.assigned") {
      const auto& a = e->As<t1::TaskAssigned>();
      if (!events::IsUuid(a.task_id()) || !events::IsUuid(a.assignee_id())) continue;
      task_ids.insert(a.task_id());
      postings.push_back(
          {e->id, "assign_fee", a.assignee_id(), a.task_id(), ToText(a.assigned_at())});
    } else if (e->name == "tasks.task.completed") {
      const auto& c = e->As<t1::TaskCompleted>();
      if (!events::IsUuid(c.task_id()) || !events::IsUuid(c.assignee_id())) continue;
      task_ids.insert(c.task_id());
      postings.push_back(
          {e->id, "completion_reward", c.assignee_id(), c.task_id(), ToText(c.completed_at())});
    } else if (e->name == "schedule.billing_cycle.closed") {
      const auto& c = e->As<s1::BillingCycleClosed>();
      closes.emplace_back(c.business_date(), e->id);
    }
  }
  tx.Exec(closes.empty() ? kPostingLock : kCloseLock);

  std::vector<events::OutgoingEvent> out;
  if (!task_ids.empty()) {
    std::vector<std::string> ids(task_ids.begin(), task_ids.end());
    std::vector<int64_t> fees, rewards;
    for (size_t i = 0; i < ids.size(); ++i) {
      fees.push_back(random_.Between(1000, 2000));
      rewards.push_back(random_.Between(2000, 4000));
    }
    auto priced =
        tx.Exec(kPriceTasks, {pg::TextArray(ids), pg::IntArray(fees), pg::IntArray(rewards)});
    for (int i = 0; i < priced.Rows(); ++i) {
      b1::TaskPriced p;
      p.set_task_id(priced.String(i, 0));
      p.set_assign_fee_cents(priced.Int(i, 1));
      p.set_completion_reward_cents(priced.Int(i, 2));
      *p.mutable_priced_at() = FromEpoch(priced.Text(i, 3));
      out.push_back(events::Make("billing.task.priced", 1, p, "task", p.task_id()));
    }
  }
  if (!described.empty()) {
    std::vector<std::string> ids, titles, jira;
    for (const auto& [id, tj] : described) {
      ids.push_back(id);
      titles.push_back(tj.first);
      jira.push_back(tj.second);
    }
    tx.Exec(kDescribeTasks, {pg::TextArray(ids), pg::TextArray(titles), pg::TextArray(jira)});
  }
  if (!postings.empty()) {
    std::vector<std::string> ids, kinds, accounts, tasks, times;
    for (const auto& p : postings) {
      ids.push_back(p.event_id);
      kinds.push_back(p.kind);
      accounts.push_back(p.account_id);
      tasks.push_back(p.task_id);
      times.push_back(p.occurred_at);
    }
    auto posted = tx.Exec(kPost, {pg::TextArray(ids), pg::TextArray(kinds), pg::TextArray(accounts),
                                  pg::TextArray(tasks), pg::TextArray(times),
                                  pg::Text(settings_.time_zone), pg::Text(kCompanyAccount)});
    for (int i = 0; i < posted.Rows(); ++i) {
      b1::TransactionApplied t;
      t.set_transaction_id(posted.String(i, 0));
      t.set_kind(KindOf(posted.Text(i, 1)));
      t.set_account_id(posted.String(i, 2));
      t.set_task_id(posted.String(i, 3));
      t.set_amount_cents(posted.Int(i, 4));
      t.set_business_date(posted.String(i, 5));
      *t.mutable_occurred_at() = FromEpoch(posted.Text(i, 6));
      auto e = events::Make("billing.transaction.applied", 1, t, "account", t.account_id());
      e.causation_id = t.transaction_id();
      out.push_back(std::move(e));
    }
  }
  std::sort(closes.begin(), closes.end());
  for (const auto& [date, event_id] : closes) ClosePeriod(tx, date, event_id);
  if (!out.empty()) tx.Exec(platform::OutboxInsertMany(out));
}

void LedgerHandler::AfterCommit() {
  if (on_commit_) on_commit_();
}

void LedgerHandler::ClosePeriod(pg::Transaction& tx, const std::string& business_date,
                                const std::string& event_id) {
  auto today = tx.Exec(kBusinessToday, {pg::Text(settings_.time_zone), pg::Text(business_date)});
  if (today.Bool(0, 1)) {
    // Not a database error: the consumer offers it again and, after
    // max_deliver attempts, parks it in dead_letters. Nothing is paid.
    throw FutureCloseError("schedule.billing_cycle.closed for " + business_date +
                           ", a future business day (today is " + today.String(0, 0) + " in " +
                           settings_.time_zone + " by the database's clock): not paying out");
  }
  if (tx.Exec(kLaterClosed, {pg::Text(business_date)}).Rows() > 0) {
    // This day, or a later one, is already closed: that close paid out
    // everything due up to then, so there is nothing left for this date.
    tx.Exec(kRecordEmptyClose, {pg::Text(business_date), pg::Text(event_id)});
    return;
  }
  // Days close oldest first, whatever order their closes arrive in (two
  // replicas can apply D+1's close before D's): an earlier open day with
  // postings is closed first, under the id its own close event has, so that
  // event finds it closed and pays nothing. Days without postings need no
  // close of their own: nothing can be due at their end that was not due at
  // the close before.
  auto open = tx.Exec(kOpenDaysBefore, {pg::Text(business_date)});
  for (int i = 0; i < open.Rows(); ++i) {
    std::string day = open.String(i, 0);
    log::Info("closing an earlier open day first",
              {{"business_date", day}, {"before", business_date}, {"event_id", event_id}});
    PayOut(tx, day, CloseEventId(day));
  }
  PayOut(tx, business_date, event_id);
}

void LedgerHandler::PayOut(pg::Transaction& tx, const std::string& business_date,
                           const std::string& event_id) {
  auto now = TimeUtil::GetCurrentTime();
  auto paid = tx.Exec(kClose, {pg::Text(business_date), pg::Text(ToText(now)), pg::Text(event_id),
                               pg::Text(kCompanyAccount)});
  std::vector<events::OutgoingEvent> out;
  out.reserve(paid.Rows() * 2);
  int64_t total = 0;
  for (int i = 0; i < paid.Rows(); ++i) {
    b1::PayoutMade p;
    p.set_payout_id(paid.String(i, 0));
    p.set_account_id(paid.String(i, 1));
    p.set_business_date(business_date);
    p.set_amount_cents(paid.Int(i, 2));
    *p.mutable_paid_at() = now;
    total += p.amount_cents();
    auto e = events::Make("billing.payout.made", 1, p, "account", p.account_id());
    e.causation_id = event_id;
    b1::TransactionApplied t;
    t.set_transaction_id(p.payout_id());
    t.set_account_id(p.account_id());
    t.set_kind(b1::TRANSACTION_KIND_PAYOUT);
    t.set_amount_cents(-p.amount_cents());
    t.set_business_date(business_date);
    *t.mutable_occurred_at() = now;
    auto te = events::Make("billing.transaction.applied", 1, t, "account", t.account_id());
    te.causation_id = event_id;
    out.push_back(std::move(te));
    out.push_back(std::move(e));
  }
  if (!out.empty()) tx.Exec(platform::OutboxInsertMany(out));
  log::Info("billing cycle closed", {{"business_date", business_date},
                                     {"payouts", std::to_string(paid.Rows())},
                                     {"paid_cents", std::to_string(total)},
                                     {"event_id", event_id}});
}

}  // namespace ates::billing
