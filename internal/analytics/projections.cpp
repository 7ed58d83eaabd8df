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

}  // namespace

Projections::Projections(std::string time_zone) : time_zone_(std::move(time_zone)) {
  On<t2::TaskCreated>(
      [this](const platform::InboundEvent&, const t2::TaskCreated& c) { OnCreated(c); });
  On<t1::TaskCompleted>(
      [this](const platform::InboundEvent&, const t1::TaskCompleted& c) { OnCompleted(c); });
  On<b1::TaskPriced>(
      [this](const platform::InboundEvent&, const b1::TaskPriced& p) { OnPriced(p); });
  On<b1::TransactionApplied>(
      [this](const platform::InboundEvent&, const b1::TransactionApplied& t) { OnApplied(t); });
  // Accepted, and nothing to project: the transactions they cause carry it.
  Ignore<t1::TaskAssigned>();
  Ignore<b1::PayoutMade>();
  Ignore<s1::BillingCycleClosed>();
}

void Projections::OnCreated(const t2::TaskCreated& c) {
  if (!events::IsUuid(c.task_id())) return;
  auto& f = batch_.tasks[c.task_id()];
  f.title = c.title();
  f.jira_id = c.jira_id();
}

void Projections::OnCompleted(const t1::TaskCompleted& c) {
  if (!events::IsUuid(c.task_id())) return;
  batch_.tasks[c.task_id()].completed_at = TimeUtil::ToString(c.completed_at());
}

void Projections::OnPriced(const b1::TaskPriced& p) {
  if (!events::IsUuid(p.task_id())) return;
  auto& f = batch_.tasks[p.task_id()];
  f.fee = p.assign_fee_cents();
  f.reward = p.completion_reward_cents();
}

void Projections::OnApplied(const b1::TransactionApplied& t) {
  if (!events::IsUuid(t.account_id()) || t.business_date().size() != 10) return;
  if (t.kind() == b1::TRANSACTION_KIND_ASSIGN_FEE) {
    batch_.earnings[t.business_date()].first += -t.amount_cents();
  } else if (t.kind() == b1::TRANSACTION_KIND_COMPLETION_REWARD) {
    batch_.earnings[t.business_date()].second += t.amount_cents();
  }
  batch_.day_totals[{t.account_id(), t.business_date()}] += t.amount_cents();
}

void Projections::Flush(pg::Transaction& tx) {
  UpsertTasks(tx);
  UpsertEarnings(tx);
  UpsertDayTotals(tx);
}

void Projections::UpsertTasks(pg::Transaction& tx) {
  if (batch_.tasks.empty()) return;
  std::vector<std::string> ids, titles, jira, fees, rewards, completed;
  for (const auto& [id, f] : batch_.tasks) {
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

void Projections::UpsertEarnings(pg::Transaction& tx) {
  if (batch_.earnings.empty()) return;
  std::vector<std::string> dates;
  std::vector<int64_t> fees, rewards;
  for (const auto& [d, fr] : batch_.earnings) {
    dates.push_back(d);
    fees.push_back(fr.first);
    rewards.push_back(fr.second);
  }
  tx.Exec(sql::kUpsertDayEarnings,
          {pg::TextArray(dates), pg::IntArray(fees), pg::IntArray(rewards)});
}

void Projections::UpsertDayTotals(pg::Transaction& tx) {
  if (batch_.day_totals.empty()) return;
  std::vector<std::string> accounts, dates;
  std::vector<int64_t> amounts;
  for (const auto& [key, amount] : batch_.day_totals) {
    accounts.push_back(key.first);
    dates.push_back(key.second);
    amounts.push_back(amount);
  }
  tx.Exec(sql::kUpsertAccountDayTotals,
          {pg::TextArray(accounts), pg::TextArray(dates), pg::IntArray(amounts)});
}

}  // namespace ates::analytics
