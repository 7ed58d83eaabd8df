#pragma once

// Reconciliation of one business day: the task events on TASKS against the
// ledger's postings. Pure (no database, no NATS) so it is unit-tested alone;
// Reconciler (reconciler.hpp) gathers the inputs.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ates::billing {

// A tasks.task.assigned or tasks.task.completed event as read from TASKS.
struct TaskEvent {
  enum class Kind { kAssigned, kCompleted };
  std::string id;  // Nats-Msg-Id; also the id of the posting it causes
  Kind kind = Kind::kAssigned;
  std::string task_id;
  std::string account_id;   // the assignee
  int64_t occurred_us = 0;  // assigned_at / completed_at, unix microseconds
  uint64_t stream_seq = 0;
};

// A fee or reward transaction of the ledger.
struct LedgerPosting {
  std::string id;    // the task event's id
  std::string kind;  // assign_fee | completion_reward
  std::string account_id;
  std::string task_id;
  int64_t amount_cents = 0;  // signed, from the account's side
  std::string business_date;
  int64_t occurred_us = 0;
};

struct TaskPrice {
  int64_t fee_cents = 0;
  int64_t reward_cents = 0;
};

// The ledger kind a task event is posted as.
const char* PostingKindOf(TaskEvent::Kind kind);

struct DayInput {
  std::string business_date;  // YYYY-MM-DD
  // The day's events (their time falls in the business day), copies included.
  std::vector<TaskEvent> events;
  // Postings linked to the day: those whose id is one of the events' and
  // those whose time falls in the day, whatever business date they were
  // posted to (a late event goes to the first open day).
  std::vector<LedgerPosting> postings;
  std::map<std::string, TaskPrice> prices;  // by task id
  // Why an event may have no posting: ids billing's inbox holds (applied),
  // and ids billing dead-lettered, with the reason.
  std::set<std::string> applied;
  std::map<std::string, std::string> dead_lettered;
};

enum class DifferenceKind {
  kMissing,     // an event without its posting
  kUnexpected,  // a posting whose id is no event of the day
  kDuplicated,  // more postings of a kind for a task than the task has such events
  kMismatched,  // a posting that does not say what its event says
};
const char* NameOf(DifferenceKind kind);  // missing | unexpected | duplicated | mismatched

struct Difference {
  DifferenceKind kind = DifferenceKind::kMissing;
  std::string event_id;      // = the posting's id
  std::string posting_kind;  // assign_fee | completion_reward
  std::string account_id;
  std::string task_id;
  // Missing: what the event calls for (0 when the task has no price); else what was posted.
  int64_t amount_cents = 0;
  int64_t occurred_us = 0;
  std::string detail;
};

struct AccountReconciliation {
  std::string account_id;
  int64_t assigned_events = 0;
  int64_t completed_events = 0;
  int64_t postings = 0;
  int64_t missing = 0;
  int64_t unexpected = 0;
  int64_t duplicated = 0;
  int64_t mismatched = 0;
  int64_t expected_cents = 0;  // what the events call for, by the tasks' prices
  int64_t posted_cents = 0;    // what the postings hold
  int64_t Differences() const { return missing + unexpected + duplicated + mismatched; }
};

struct DayReconciliation {
  std::string business_date;
  int64_t assigned_events = 0;  // distinct event ids
  int64_t completed_events = 0;
  int64_t stream_copies = 0;  // messages whose event id came before (the inbox drops them)
  int64_t postings = 0;
  int64_t missing = 0;
  int64_t unexpected = 0;
  int64_t duplicated = 0;
  int64_t mismatched = 0;
  std::vector<AccountReconciliation> accounts;  // by account id
  std::vector<Difference> differences;          // missing first, then by time
  int64_t Differences() const { return missing + unexpected + duplicated + mismatched; }
  int64_t Count(DifferenceKind kind) const;
};

// Matches postings to events by id. Each event needs exactly one posting of
// its kind, for its assignee and task, of the task's price. A posting without
// an event is duplicated when its task has events of that kind and more
// postings of it than events, else unexpected.
DayReconciliation CompareDay(const DayInput& input);

// When reading TASKS for a day can stop: once messages were published after
// `stop_after_ns` (the day's end plus a grace for publishing lag) and every
// posting of the day has met its event, so a posting whose event was published
// very late is not reported as unexpected. Reading also stops when the stream
// is exhausted (the reader's business).
class ReadStop final {
 public:
  ReadStop(int64_t stop_after_ns, std::set<std::string> postings_to_meet)
      : stop_after_ns_(stop_after_ns), waiting_(std::move(postings_to_meet)) {}
  void Saw(const std::string& event_id) { waiting_.erase(event_id); }
  bool Done(int64_t published_ns) const {
    return published_ns > stop_after_ns_ && waiting_.empty();
  }
  size_t waiting() const { return waiting_.size(); }

 private:
  int64_t stop_after_ns_;
  std::set<std::string> waiting_;
};

}  // namespace ates::billing
