#include "projections.hpp"

#include <google/protobuf/util/time_util.h>

#include "analytics/queries.hpp"
#include "ates/platform/events.hpp"

namespace ates::analytics {
namespace {

namespace t1 = ::ates::events::tasks::v1;
namespace t2 = ::ates::events::tasks::v2;
namespace b1 = ::ates::events::billing::v1;
namespace s1 = ::ates::events::schedule::v1;
using google::protobuf::util::TimeUtil;

// Marks an absent value; NullableTextArray sends it as SQL NULL.
constexpr const char* kNull = "\x01";

void OnCreated(ProjectionBatch& b, const t2::TaskCreated& c) {
  if (!events::IsUuid(c.task_id())) return;
  auto& f = b.tasks[c.task_id()];
  f.title = c.title();
  f.jira_id = c.jira_id();
}

void OnCompleted(ProjectionBatch& b, const t1::TaskCompleted& c) {
  if (!events::IsUuid(c.task_id())) return;
  b.tasks[c.task_id()].completed_at = TimeUtil::ToString(c.completed_at());
}

void OnPriced(ProjectionBatch& b, const b1::TaskPriced& p) {
  if (!events::IsUuid(p.task_id())) return;
  auto& f = b.tasks[p.task_id()];
  f.fee = p.assign_fee_cents();
  f.reward = p.completion_reward_cents();
}

void OnApplied(ProjectionBatch& b, const b1::TransactionApplied& t) {
  if (!events::IsUuid(t.account_id()) || t.business_date().size() != 10) return;
  if (t.kind() == b1::TRANSACTION_KIND_ASSIGN_FEE) {
    b.earnings[t.business_date()].first += -t.amount_cents();
  } else if (t.kind() == b1::TRANSACTION_KIND_COMPLETION_REWARD) {
    b.earnings[t.business_date()].second += t.amount_cents();
  }
  b.day_totals[{t.account_id(), t.business_date()}] += t.amount_cents();
}

void UpsertEarnings(pg::Transaction& tx, const ProjectionBatch& batch) {
  if (batch.earnings.empty()) return;
  std::vector<std::string> dates;
  std::vector<int64_t> fees, rewards;
  for (const auto& [d, fr] : batch.earnings) {
    dates.push_back(d);
    fees.push_back(fr.first);
    rewards.push_back(fr.second);
  }
  tx.Exec(sql::kUpsertDayEarnings,
          {pg::TextArray(dates), pg::IntArray(fees), pg::IntArray(rewards)});
}

void UpsertDayTotals(pg::Transaction& tx, const ProjectionBatch& batch) {
  if (batch.day_totals.empty()) return;
  std::vector<std::string> accounts, dates;
  std::vector<int64_t> amounts;
  for (const auto& [key, amount] : batch.day_totals) {
    accounts.push_back(key.first);
    dates.push_back(key.second);
    amounts.push_back(amount);
  }
  tx.Exec(sql::kUpsertAccountDayTotals,
          {pg::TextArray(accounts), pg::TextArray(dates), pg::IntArray(amounts)});
}

}  // namespace

Projections::Projections(std::string time_zone) : time_zone_(std::move(time_zone)) {
  using Batch = ProjectionBatch;
  using Event = platform::InboundEvent;
  On<t2::TaskCreated>([](Batch& b, const Event&, const t2::TaskCreated& c) { OnCreated(b, c); });
  On<t1::TaskCompleted>(
      [](Batch& b, const Event&, const t1::TaskCompleted& c) { OnCompleted(b, c); });
  On<b1::TaskPriced>([](Batch& b, const Event&, const b1::TaskPriced& p) { OnPriced(b, p); });
  On<b1::TransactionApplied>(
      [](Batch& b, const Event&, const b1::TransactionApplied& t) { OnApplied(b, t); });
  // Accepted, and nothing to project: the transactions they cause carry it.
  Ignore<t1::TaskAssigned>();
  Ignore<b1::PayoutMade>();
  Ignore<s1::BillingCycleClosed>();
}

void Projections::Flush(pg::Transaction& tx, ProjectionBatch& batch) {
  UpsertTasks(tx, batch);
  UpsertEarnings(tx, batch);
  UpsertDayTotals(tx, batch);
}

void Projections::UpsertTasks(pg::Transaction& tx, const ProjectionBatch& batch) {
  if (batch.tasks.empty()) return;
  std::vector<std::string> ids, titles, jira, fees, rewards, completed;
  for (const auto& [id, f] : batch.tasks) {
    ids.push_back(id);
    titles.push_back(f.title.value_or(kNull));
    jira.push_back(f.jira_id.value_or(kNull));
    fees.push_back(f.fee ? std::to_string(*f.fee) : kNull);
    rewards.push_back(f.reward ? std::to_string(*f.reward) : kNull);
    completed.push_back(f.completed_at.value_or(kNull));
  }
  tx.Exec(
      sql::kUpsertTaskFacts,
      {pg::TextArray(ids), pg::NullableTextArray(titles, kNull), pg::NullableTextArray(jira, kNull),
       pg::NullableTextArray(fees, kNull), pg::NullableTextArray(rewards, kNull),
       pg::NullableTextArray(completed, kNull), pg::Text(time_zone_)});
}

}  // namespace ates::analytics
