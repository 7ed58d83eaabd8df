#include "reconcile.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <tuple>

#include "ates/contracts/catalogue.hpp"
#include "ates/platform/events.hpp"

namespace ates::billing {
namespace {

constexpr const char* kAssignFee = "assign_fee";
constexpr const char* kCompletionReward = "completion_reward";

std::string EventName(TaskEvent::Kind kind) {
  return std::string(kind == TaskEvent::Kind::kAssigned
                         ? contracts::Spec<events::tasks::v1::TaskAssigned>().name
                         : contracts::Spec<events::tasks::v1::TaskCompleted>().name);
}

std::string TimeText(int64_t unix_us) {
  return events::FormatTimestamp(
      std::chrono::system_clock::time_point(std::chrono::microseconds(unix_us)));
}

// What an event calls for, signed from the account's side; nullopt without a price.
std::optional<int64_t> ExpectedAmount(const TaskEvent& e,
                                      const std::map<std::string, TaskPrice>& prices) {
  auto it = prices.find(e.task_id);
  if (it == prices.end()) return std::nullopt;
  return e.kind == TaskEvent::Kind::kAssigned ? -it->second.fee_cents : it->second.reward_cents;
}

std::string MissingDetail(const TaskEvent& e, const DayInput& input) {
  auto dead = input.dead_lettered.find(e.id);
  if (dead != input.dead_lettered.end()) return "billing dead-lettered the event: " + dead->second;
  if (input.applied.count(e.id)) return "billing applied the event, but its posting is gone";
  return "billing has not applied the event (yet)";
}

// Every way a matched posting disagrees with its event; "" when it agrees.
std::string Disagreements(const TaskEvent& e, const LedgerPosting& p, const DayInput& input) {
  std::vector<std::string> found;
  if (p.kind != PostingKindOf(e.kind)) {
    found.push_back("posted as " + p.kind + " for a " + EventName(e.kind) + " event");
  }
  if (p.account_id != e.account_id) {
    found.push_back("posted to account " + p.account_id + ", the event's assignee is " +
                    e.account_id);
  }
  if (p.task_id != e.task_id) {
    found.push_back("posted for task " + p.task_id + ", the event is about task " + e.task_id);
  }
  auto want = ExpectedAmount(e, input.prices);
  if (!want) {
    found.push_back("the task has no price");
  } else if (p.amount_cents != *want) {
    found.push_back("amount " + std::to_string(p.amount_cents) + " cents, the task's price gives " +
                    std::to_string(*want));
  }
  if (p.business_date < input.business_date) {
    found.push_back("posted to " + p.business_date + ", before the day the event happened");
  }
  // timestamptz keeps microseconds: allow the rounding of the last one.
  if (std::llabs(p.occurred_us - e.occurred_us) > 1) {
    found.push_back("occurred at " + TimeText(p.occurred_us) + ", the event at " +
                    TimeText(e.occurred_us));
  }
  std::string text;
  for (const auto& f : found) text += (text.empty() ? "" : "; ") + f;
  return text;
}

class Tally {
 public:
  explicit Tally(DayReconciliation& out) : out_(out) {}

  AccountReconciliation& Account(const std::string& id) {
    auto& a = accounts_[id];
    a.account_id = id;
    return a;
  }

  void Add(Difference d, const std::string& account) {
    auto& a = Account(account);
    switch (d.kind) {
      case DifferenceKind::kMissing:
        ++out_.missing;
        ++a.missing;
        break;
      case DifferenceKind::kUnexpected:
        ++out_.unexpected;
        ++a.unexpected;
        break;
      case DifferenceKind::kDuplicated:
        ++out_.duplicated;
        ++a.duplicated;
        break;
      case DifferenceKind::kMismatched:
        ++out_.mismatched;
        ++a.mismatched;
        break;
    }
    out_.differences.push_back(std::move(d));
  }

  void Finish() {
    for (auto& [id, a] : accounts_) out_.accounts.push_back(std::move(a));
    std::sort(out_.differences.begin(), out_.differences.end(),
              [](const Difference& a, const Difference& b) {
                return std::tie(a.kind, a.occurred_us, a.event_id) <
                       std::tie(b.kind, b.occurred_us, b.event_id);
              });
  }

 private:
  DayReconciliation& out_;
  std::map<std::string, AccountReconciliation> accounts_;
};

Difference Of(DifferenceKind kind, const LedgerPosting& p, std::string detail) {
  return {kind,      p.id,           p.kind,        p.account_id,
          p.task_id, p.amount_cents, p.occurred_us, std::move(detail)};
}

// (task, posting kind)
using TaskKind = std::pair<std::string, std::string>;

// The day's events and postings by id, each counted once.
struct DayIndex {
  std::map<std::string, const TaskEvent*> events;
  // how many distinct events the stream has of a (task, posting kind)
  std::map<TaskKind, int64_t> events_per_task;
  std::map<std::string, const LedgerPosting*> postings;
};

void IndexEvents(const DayInput& input, DayReconciliation& out, Tally& tally, DayIndex& index) {
  // The stream may hold an event twice (published again after the duplicate
  // window); billing's inbox applies it once, and so does this count.
  for (const auto& e : input.events) {
    if (!index.events.emplace(e.id, &e).second) {
      ++out.stream_copies;
      continue;
    }
    ++index.events_per_task[{e.task_id, PostingKindOf(e.kind)}];
    auto& a = tally.Account(e.account_id);
    if (e.kind == TaskEvent::Kind::kAssigned) {
      ++out.assigned_events;
      ++a.assigned_events;
    } else {
      ++out.completed_events;
      ++a.completed_events;
    }
    a.expected_cents += ExpectedAmount(e, input.prices).value_or(0);
  }
}

void IndexPostings(const DayInput& input, DayReconciliation& out, Tally& tally, DayIndex& index) {
  for (const auto& p : input.postings) {
    if (!index.postings.emplace(p.id, &p).second) continue;  // the same row read twice
    ++out.postings;
    auto& a = tally.Account(p.account_id);
    ++a.postings;
    a.posted_cents += p.amount_cents;
  }
}

// Each event needs its posting, and the posting must say what the event says.
void CheckEvents(const DayInput& input, const DayIndex& index, Tally& tally) {
  for (const auto& [id, e] : index.events) {
    auto it = index.postings.find(id);
    if (it == index.postings.end()) {
      tally.Add(
          {DifferenceKind::kMissing, e->id, PostingKindOf(e->kind), e->account_id, e->task_id,
           ExpectedAmount(*e, input.prices).value_or(0), e->occurred_us, MissingDetail(*e, input)},
          e->account_id);
      continue;
    }
    std::string detail = Disagreements(*e, *it->second, input);
    if (!detail.empty()) {
      tally.Add(Of(DifferenceKind::kMismatched, *it->second, std::move(detail)), e->account_id);
    }
  }
}

// The postings of one (task, kind) without an event, oldest first: the first
// `doubled` of them post again what another posting already did; the rest
// have no event at all.
void ClassifyExtra(const TaskKind& key, std::vector<const LedgerPosting*>& extra, int64_t n_events,
                   int64_t n_matched, Tally& tally) {
  std::sort(extra.begin(), extra.end(), [](const LedgerPosting* a, const LedgerPosting* b) {
    return std::tie(a->occurred_us, a->id) < std::tie(b->occurred_us, b->id);
  });
  const int64_t n_postings = n_matched + static_cast<int64_t>(extra.size());
  // Beyond one posting per event: the same fact posted again under another id.
  const int64_t doubled = n_events > 0 ? std::max<int64_t>(0, n_postings - n_events) : 0;
  for (size_t i = 0; i < extra.size(); ++i) {
    const LedgerPosting& p = *extra[i];
    if (static_cast<int64_t>(i) < doubled) {
      tally.Add(Of(DifferenceKind::kDuplicated, p,
                   std::to_string(n_postings) + " " + p.kind + " postings for task " + p.task_id +
                       ", which has " + std::to_string(n_events) + " " +
                       EventName(key.second == kAssignFee ? TaskEvent::Kind::kAssigned
                                                          : TaskEvent::Kind::kCompleted) +
                       " event(s) on TASKS that day"),
                p.account_id);
    } else {
      tally.Add(
          Of(DifferenceKind::kUnexpected, p, "no task event with this id on TASKS for the day"),
          p.account_id);
    }
  }
}

// A posting without an event is duplicated when its task has events of that
// kind and more postings of it than events, else unexpected.
void ClassifyUnmatched(const DayIndex& index, Tally& tally) {
  std::map<TaskKind, int64_t> matched;
  std::map<TaskKind, std::vector<const LedgerPosting*>> unmatched;
  for (const auto& [id, p] : index.postings) {
    if (index.events.count(id)) {
      ++matched[{p->task_id, p->kind}];
    } else {
      unmatched[{p->task_id, p->kind}].push_back(p);
    }
  }
  for (auto& [key, extra] : unmatched) {
    auto have = index.events_per_task.find(key);
    const int64_t n_events = have == index.events_per_task.end() ? 0 : have->second;
    ClassifyExtra(key, extra, n_events, matched[key], tally);
  }
}

}  // namespace

const char* PostingKindOf(TaskEvent::Kind kind) {
  return kind == TaskEvent::Kind::kAssigned ? kAssignFee : kCompletionReward;
}

const char* NameOf(DifferenceKind kind) {
  switch (kind) {
    case DifferenceKind::kMissing:
      return "missing";
    case DifferenceKind::kUnexpected:
      return "unexpected";
    case DifferenceKind::kDuplicated:
      return "duplicated";
    case DifferenceKind::kMismatched:
      return "mismatched";
  }
  return "unknown";
}

int64_t DayReconciliation::Count(DifferenceKind kind) const {
  switch (kind) {
    case DifferenceKind::kMissing:
      return missing;
    case DifferenceKind::kUnexpected:
      return unexpected;
    case DifferenceKind::kDuplicated:
      return duplicated;
    case DifferenceKind::kMismatched:
      return mismatched;
  }
  return 0;
}

DayReconciliation CompareDay(const DayInput& input) {
  DayReconciliation out;
  out.business_date = input.business_date;
  Tally tally(out);
  DayIndex index;
  IndexEvents(input, out, tally, index);
  IndexPostings(input, out, tally, index);
  CheckEvents(input, index, tally);
  ClassifyUnmatched(index, tally);
  tally.Finish();
  return out;
}

}  // namespace ates::billing
