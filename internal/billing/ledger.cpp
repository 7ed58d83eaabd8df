#include "ledger.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "ates/contracts/catalogue.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/outbox.hpp"
#include "billing/queries.hpp"

namespace ates::billing {
namespace {

namespace t1 = ::ates::events::tasks::v1;
namespace t2 = ::ates::events::tasks::v2;
namespace b1 = ::ates::events::billing::v1;
namespace s1 = ::ates::events::schedule::v1;
using google::protobuf::util::TimeUtil;

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

// A row of price_tasks.sql as the event it announces.
b1::TaskPriced PricedFrom(const pg::Row& row) {
  b1::TaskPriced p;
  p.set_task_id(row.String("task_id"));
  p.set_assign_fee_cents(row.Int("assign_fee_cents"));
  p.set_completion_reward_cents(row.Int("completion_reward_cents"));
  *p.mutable_priced_at() = FromEpoch(row.Text("priced_at"));
  return p;
}

// A row of post_transactions.sql as the event it announces.
b1::TransactionApplied AppliedFrom(const pg::Row& row) {
  b1::TransactionApplied t;
  t.set_transaction_id(row.String("id"));
  t.set_kind(KindOf(row.Text("kind")));
  t.set_account_id(row.String("account_id"));
  t.set_task_id(row.String("task_id"));
  t.set_amount_cents(row.Int("amount_cents"));
  t.set_business_date(row.String("business_date"));
  *t.mutable_occurred_at() = FromEpoch(row.Text("occurred_at"));
  return t;
}

// A row of close_day.sql as the payout it made.
b1::PayoutMade PayoutFrom(const pg::Row& row, const std::string& business_date,
                          const google::protobuf::Timestamp& paid_at) {
  b1::PayoutMade p;
  p.set_payout_id(row.String("id"));
  p.set_account_id(row.String("account_id"));
  p.set_business_date(business_date);
  p.set_amount_cents(row.Int("amount_cents"));
  *p.mutable_paid_at() = paid_at;
  return p;
}

// The payout's own ledger transaction.
b1::TransactionApplied PayoutTransaction(const b1::PayoutMade& p) {
  b1::TransactionApplied t;
  t.set_transaction_id(p.payout_id());
  t.set_account_id(p.account_id());
  t.set_kind(b1::TRANSACTION_KIND_PAYOUT);
  t.set_amount_cents(-p.amount_cents());
  t.set_business_date(p.business_date());
  *t.mutable_occurred_at() = p.paid_at();
  return t;
}

void OnCreated(LedgerBatch& b, const t2::TaskCreated& created) {
  if (!events::IsUuid(created.task_id())) return;
  b.task_ids.insert(created.task_id());
  b.described[created.task_id()] = {created.title(), created.jira_id()};
}

void OnAssigned(LedgerBatch& b, const platform::InboundEvent& e, const t1::TaskAssigned& a) {
  if (!events::IsUuid(a.task_id()) || !events::IsUuid(a.assignee_id())) return;
  b.task_ids.insert(a.task_id());
  b.postings.push_back(
      {e.id, "assign_fee", a.assignee_id(), a.task_id(), ToText(a.assigned_at()), &e.trace});
}

void OnCompleted(LedgerBatch& b, const platform::InboundEvent& e, const t1::TaskCompleted& c) {
  if (!events::IsUuid(c.task_id()) || !events::IsUuid(c.assignee_id())) return;
  b.task_ids.insert(c.task_id());
  b.postings.push_back({e.id, "completion_reward", c.assignee_id(), c.task_id(),
                        ToText(c.completed_at()), &e.trace});
}

// The trace of each posting's event, by transaction id (= event id).
std::unordered_map<std::string_view, const trace::TraceContext*> TracesOf(
    const LedgerBatch& batch) {
  std::unordered_map<std::string_view, const trace::TraceContext*> out;
  out.reserve(batch.postings.size());
  for (const auto& p : batch.postings) out.emplace(p.event_id, p.trace);
  return out;
}

// One line per posted transaction, in the trace of the event that caused it,
// so an operator follows a request to the ledger (ADR 33). Debug: at the
// consumer's rate, one info line per event would flood the log.
void LogPosted(const b1::TransactionApplied& t, const trace::TraceContext* context) {
  if (!log::DebugEnabled()) return;
  std::optional<trace::Scope> scope;
  if (context != nullptr) scope.emplace(*context);
  log::Debug("transaction posted", {{"transaction_id", t.transaction_id()},
                                    {"kind", b1::TransactionKind_Name(t.kind())},
                                    {"task_id", t.task_id()},
                                    {"account_id", t.account_id()},
                                    {"amount_cents", std::to_string(t.amount_cents())},
                                    {"business_date", t.business_date()}});
}

void DescribeTasks(pg::Transaction& tx, const LedgerBatch& batch) {
  if (batch.described.empty()) return;
  std::vector<std::string> ids, titles, jira;
  for (const auto& [id, tj] : batch.described) {
    ids.push_back(id);
    titles.push_back(tj.first);
    jira.push_back(tj.second);
  }
  tx.Exec(sql::kDescribeTasks, {pg::TextArray(ids), pg::TextArray(titles), pg::TextArray(jira)});
}

}  // namespace

LedgerHandler::LedgerHandler(LedgerSettings settings, platform::RandomPicker& random,
                             std::function<void()> on_commit)
    : settings_(std::move(settings)), random_(random), on_commit_(std::move(on_commit)) {
  using Batch = LedgerBatch;
  using Event = platform::InboundEvent;
  On<t2::TaskCreated>([](Batch& b, const Event&, const t2::TaskCreated& c) { OnCreated(b, c); });
  On<t1::TaskAssigned>(
      [](Batch& b, const Event& e, const t1::TaskAssigned& a) { OnAssigned(b, e, a); });
  On<t1::TaskCompleted>(
      [](Batch& b, const Event& e, const t1::TaskCompleted& c) { OnCompleted(b, e, c); });
  On<s1::BillingCycleClosed>([](Batch& b, const Event& e, const s1::BillingCycleClosed& c) {
    b.closes.emplace_back(c.business_date(), e.id);
  });
}

void LedgerHandler::Flush(pg::Transaction& tx, LedgerBatch& batch) {
  tx.Exec(batch.closes.empty() ? sql::kPostingLock : sql::kCloseLock);
  std::vector<events::OutgoingEvent> out;
  PriceTasks(tx, batch, out);
  DescribeTasks(tx, batch);
  Post(tx, batch, out);
  std::sort(batch.closes.begin(), batch.closes.end());
  for (const auto& [date, event_id] : batch.closes) ClosePeriod(tx, date, event_id);
  if (!out.empty()) tx.Exec(platform::OutboxInsertMany(out));
}

void LedgerHandler::AfterCommit() {
  if (on_commit_) on_commit_();
}

void LedgerHandler::PriceTasks(pg::Transaction& tx, const LedgerBatch& batch,
                               std::vector<events::OutgoingEvent>& out) {
  if (batch.task_ids.empty()) return;
  std::vector<std::string> ids(batch.task_ids.begin(), batch.task_ids.end());
  std::vector<int64_t> fees, rewards;
  for (size_t i = 0; i < ids.size(); ++i) {
    fees.push_back(random_.Between(1000, 2000));
    rewards.push_back(random_.Between(2000, 4000));
  }
  auto priced =
      tx.Exec(sql::kPriceTasks, {pg::TextArray(ids), pg::IntArray(fees), pg::IntArray(rewards)});
  for (int i = 0; i < priced.Rows(); ++i) {
    b1::TaskPriced p = PricedFrom(priced.At(i));
    out.push_back(contracts::Make(p, p.task_id()));
  }
}

void LedgerHandler::Post(pg::Transaction& tx, const LedgerBatch& batch,
                         std::vector<events::OutgoingEvent>& out) {
  if (batch.postings.empty()) return;
  std::vector<std::string> ids, kinds, accounts, tasks, times;
  for (const auto& p : batch.postings) {
    ids.push_back(p.event_id);
    kinds.push_back(p.kind);
    accounts.push_back(p.account_id);
    tasks.push_back(p.task_id);
    times.push_back(p.occurred_at);
  }
  auto posted = tx.Exec(
      sql::kPostTransactions,
      {pg::TextArray(ids), pg::TextArray(kinds), pg::TextArray(accounts), pg::TextArray(tasks),
       pg::TextArray(times), pg::Text(settings_.time_zone), pg::Text(kCompanyAccount)});
  auto traces = TracesOf(batch);
  for (int i = 0; i < posted.Rows(); ++i) {
    b1::TransactionApplied t = AppliedFrom(posted.At(i));
    auto e = contracts::Make(t, t.account_id());
    e.causation_id = t.transaction_id();
    auto found = traces.find(t.transaction_id());
    const trace::TraceContext* context = found == traces.end() ? nullptr : found->second;
    if (context != nullptr) e.traceparent = context->Traceparent();
    LogPosted(t, context);
    out.push_back(std::move(e));
  }
}

void LedgerHandler::RefuseFutureClose(pg::Transaction& tx, const std::string& business_date) {
  auto today =
      tx.Exec(sql::kBusinessToday, {pg::Text(settings_.time_zone), pg::Text(business_date)}).At(0);
  if (!today.Bool("in_future")) return;
  // Not a database error: the consumer offers it again and, after
  // max_deliver attempts, parks it in dead_letters. Nothing is paid.
  throw FutureCloseError("schedule.billing_cycle.closed for " + business_date +
                         ", a future business day (today is " + today.String("today") + " in " +
                         settings_.time_zone + " by the database's clock): not paying out");
}

void LedgerHandler::ClosePeriod(pg::Transaction& tx, const std::string& business_date,
                                const std::string& event_id) {
  RefuseFutureClose(tx, business_date);
  if (tx.Exec(sql::kLaterClosed, {pg::Text(business_date)}).Rows() > 0) {
    // This day, or a later one, is already closed: that close paid out
    // everything due up to then, so there is nothing left for this date.
    tx.Exec(sql::kRecordEmptyClose, {pg::Text(business_date), pg::Text(event_id)});
    return;
  }
  // Days close oldest first, whatever order their closes arrive in (two
  // replicas can apply D+1's close before D's): an earlier open day with
  // postings is closed first, under the id its own close event has, so that
  // event finds it closed and pays nothing. Days without postings need no
  // close of their own: nothing can be due at their end that was not due at
  // the close before.
  auto open = tx.Exec(sql::kOpenDaysBefore, {pg::Text(business_date)});
  for (int i = 0; i < open.Rows(); ++i) {
    std::string day = open.At(i).String("business_date");
    log::Info("closing an earlier open day first",
              {{"business_date", day}, {"before", business_date}, {"event_id", event_id}});
    // The id the scheduler gives that day's close event.
    PayOut(tx, day, contracts::BillingCycleClosedId(day));
  }
  PayOut(tx, business_date, event_id);
}

void LedgerHandler::PayOut(pg::Transaction& tx, const std::string& business_date,
                           const std::string& event_id) {
  auto now = TimeUtil::GetCurrentTime();
  auto paid = tx.Exec(sql::kCloseDay, {pg::Text(business_date), pg::Text(ToText(now)),
                                       pg::Text(event_id), pg::Text(kCompanyAccount)});
  std::vector<events::OutgoingEvent> out;
  out.reserve(paid.Rows() * 2);
  int64_t total = 0;
  for (int i = 0; i < paid.Rows(); ++i) {
    b1::PayoutMade p = PayoutFrom(paid.At(i), business_date, now);
    total += p.amount_cents();
    auto te = contracts::Make(PayoutTransaction(p), p.account_id());
    te.causation_id = event_id;
    auto e = contracts::Make(p, p.account_id());
    e.causation_id = event_id;
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
