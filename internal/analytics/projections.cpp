#include "projections.hpp"

#include <google/protobuf/util/time_util.h>

#include <map>
#include <optional>

#include "ates/events/billing/v1/billing_events.pb.h"
#include "ates/events/tasks/v1/task_events.pb.h"
#include "ates/events/tasks/v2/task_events.pb.h"
#include "ates/platform/events.hpp"

namespace ates::analytics {
namespace {

namespace t1 = ::ates::events::tasks::v1;
namespace t2 = ::ates::events::tasks::v2;
namespace b1 = ::ates::events::billing::v1;
using google::protobuf::util::TimeUtil;

constexpr std::string_view kUpsertTasks =
    "INSERT INTO task_facts (task_id, title, jira_id, fee_cents, reward_cents, completed_at,"
    " completed_date)"
    " SELECT u.task_id, u.title, u.jira_id, u.fee, u.reward, u.completed_at,"
    "  (u.completed_at AT TIME ZONE $7)::date"
    " FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],"
    "  $6::timestamptz[]) AS u(task_id, title, jira_id, fee, reward, completed_at)"
    " ON CONFLICT (task_id) DO UPDATE SET"
    " title = COALESCE(EXCLUDED.title, task_facts.title),"
    " jira_id = COALESCE(EXCLUDED.jira_id, task_facts.jira_id),"
    " fee_cents = COALESCE(EXCLUDED.fee_cents, task_facts.fee_cents),"
    " reward_cents = COALESCE(EXCLUDED.reward_cents, task_facts.reward_cents),"
    " completed_at = COALESCE(EXCLUDED.completed_at, task_facts.completed_at),"
    " completed_date = COALESCE(EXCLUDED.completed_date, task_facts.completed_date)";

constexpr std::string_view kUpsertEarnings =
    "INSERT INTO day_earnings (business_date, fees_cents, rewards_cents)"
    " SELECT * FROM unnest($1::date[], $2::bigint[], $3::bigint[])"
    " ON CONFLICT (business_date) DO UPDATE SET"
    " fees_cents = day_earnings.fees_cents + EXCLUDED.fees_cents,"
    " rewards_cents = day_earnings.rewards_cents + EXCLUDED.rewards_cents";

constexpr std::string_view kUpsertTotals =
    "INSERT INTO account_day_totals (account_id, business_date, amount_cents)"
    " SELECT * FROM unnest($1::uuid[], $2::date[], $3::bigint[])"
    " ON CONFLICT (account_id, business_date) DO UPDATE SET"
    " amount_cents = account_day_totals.amount_cents + EXCLUDED.amount_cents";

struct TaskFact {
  std::optional<std::string> title, jira_id, completed_at;
  std::optional<int64_t> fee, reward;
};

// Marks an absent value; NullableTextArray sends it as SQL NULL.
constexpr const char* kNull = "\x01";

}  // namespace

std::vector<std::pair<std::string, int>> Projections::Accepts() const {
  return {{"tasks.task.created", 1},  {"tasks.task.created", 2},
          {"tasks.task.assigned", 1}, {"tasks.task.completed", 1},
          {"billing.task.priced", 1}, {"billing.transaction.applied", 1},
          {"billing.payout.made", 1}, {"schedule.billing_cycle.closed", 1}};
}

void Projections::Apply(pg::Transaction& tx,
                        const std::vector<const platform::InboundEvent*>& events) {
  std::map<std::string, TaskFact> tasks;
  std::map<std::string, std::pair<int64_t, int64_t>> earnings;        // date -> fees, rewards
  std::map<std::pair<std::string, std::string>, int64_t> day_totals;  // (account, date) -> sum
  for (const auto* e : events) {
    if (e->name == "tasks.task.created") {
      t2::TaskCreated c = e->version == 1 ? events::UpcastTaskCreated(e->As<t1::TaskCreated>())
                                          : e->As<t2::TaskCreated>();
      if (!events::IsUuid(c.task_id())) continue;
      auto& f = tasks[c.task_id()];
      f.title = c.title();
      f.jira_id = c.jira_id();
    } else if (e->name == "tasks.task.completed") {
      const auto& c = e->As<t1::TaskCompleted>();
      if (!events::IsUuid(c.task_id())) continue;
      tasks[c.task_id()].completed_at = TimeUtil::ToString(c.completed_at());
    } else if (e->name == "billing.task.priced") {
      const auto& p = e->As<b1::TaskPriced>();
      if (!events::IsUuid(p.task_id())) continue;
      auto& f = tasks[p.task_id()];
      f.fee = p.assign_fee_cents();
      f.reward = p.completion_reward_cents();
    } else if (e->name == "billing.transaction.applied") {
      const auto& t = e->As<b1::TransactionApplied>();
      if (!events::IsUuid(t.account_id()) || t.business_date().size() != 10) continue;
      if (t.kind() == b1::TRANSACTION_KIND_ASSIGN_FEE) {
        earnings[t.business_date()].first += -t.amount_cents();
      } else if (t.kind() == b1::TRANSACTION_KIND_COMPLETION_REWARD) {
        earnings[t.business_date()].second += t.amount_cents();
      }
      day_totals[{t.account_id(), t.business_date()}] += t.amount_cents();
    }
  }
  if (!tasks.empty()) {
    std::vector<std::string> ids, titles, jira, fees, rewards, completed;
    for (const auto& [id, f] : tasks) {
      ids.push_back(id);
      titles.push_back(f.title.value_or(kNull));
      jira.push_back(f.jira_id.value_or(kNull));
      fees.push_back(f.fee ? std::to_string(*f.fee) : kNull);
      rewards.push_back(f.reward ? std::to_string(*f.reward) : kNull);
      completed.push_back(f.completed_at.value_or(kNull));
    }
    tx.Exec(kUpsertTasks, {pg::TextArray(ids), pg::NullableTextArray(titles, kNull),
                           pg::NullableTextArray(jira, kNull), pg::NullableTextArray(fees, kNull),
                           pg::NullableTextArray(rewards, kNull),
                           pg::NullableTextArray(completed, kNull), pg::Text(time_zone_)});
  }
  if (!earnings.empty()) {
    std::vector<std::string> dates;
    std::vector<int64_t> fees, rewards;
    for (const auto& [d, fr] : earnings) {
      dates.push_back(d);
      fees.push_back(fr.first);
      rewards.push_back(fr.second);
    }
    tx.Exec(kUpsertEarnings, {pg::TextArray(dates), pg::IntArray(fees), pg::IntArray(rewards)});
  }
  if (!day_totals.empty()) {
    std::vector<std::string> accounts, dates;
    std::vector<int64_t> amounts;
    for (const auto& [key, amount] : day_totals) {
      accounts.push_back(key.first);
      dates.push_back(key.second);
      amounts.push_back(amount);
    }
    tx.Exec(kUpsertTotals, {pg::TextArray(accounts), pg::TextArray(dates), pg::IntArray(amounts)});
  }
}

}  // namespace ates::analytics
