#pragma once
// The test oracle of "nothing lost, nothing applied twice": the whole TASKS
// stream against billing's ledger, billing's ledger against itself, analytics'
// read models against billing, and ates-tasks' own rows against the events it
// published. It reads databases and streams only (no daemon API), so it can
// judge a system after any fault, and later judge `atesctl audit reconcile`.
//
// How billing links a posting to its source: transactions.id is the id
// (Nats-Msg-Id) of the tasks.task.assigned / tasks.task.completed event that
// caused it (internal/billing/migrations/0001_billing.sql, ledger.cpp kPost);
// kind is assign_fee / completion_reward; payouts have their own ids.

#include <cstdint>
#include <string>
#include <vector>

#include "support/js_client.hpp"

namespace ates::test::faults {

struct ReconcileInput {
  std::vector<StreamMessage> tasks_stream;  // every message of TASKS, in order
  std::string tasks_db;                     // database URLs
  std::string billing_db;
  std::string analytics_db;
};

// Counts, and the first examples of each kind of difference.
struct Reconciliation {
  // The TASKS stream.
  int64_t stream_messages = 0;   // every message, copies included
  int64_t duplicate_copies = 0;  // messages whose event id came before
  int64_t tasks_created = 0;     // distinct task ids with a created event
  int64_t assigned_events = 0;   // distinct event ids
  int64_t completed_events = 0;
  int64_t undecodable = 0;  // messages that are not a known TASKS event
  int64_t Events() const { return assigned_events + completed_events; }

  // Billing's ledger against the events.
  int64_t postings = 0;  // fee and reward transactions (payouts excluded)
  int64_t missing = 0;   // events without their posting
  int64_t doubled = 0;   // postings beyond one per event (see reconcile.cpp)
  int64_t orphans = 0;   // postings whose id is no event on TASKS
  int64_t wrong = 0;     // postings of the wrong kind, account, task or amount

  // ates-tasks' rows against its events: a task's version counts its changes
  // (1 at creation, +1 per reassignment, +1 at completion), each of which
  // committed exactly one event.
  int64_t unpublished = 0;   // committed changes without their event on TASKS
  int64_t extra_events = 0;  // events beyond the changes ates-tasks committed

  // Billing's own invariants and the close.
  int64_t ledger_errors = 0;  // double entry, balances, prices
  int64_t payouts = 0;
  int64_t closed_days = 0;
  int64_t payout_errors = 0;  // a positive balance not paid exactly once, or a wrong amount
  int64_t unsent_emails = 0;

  // Analytics against billing.
  int64_t analytics_diffs = 0;

  // In any of the three databases. Under a transient fault (database or NATS
  // away) there must be none: such faults spend no delivery budget.
  int64_t dead_letters = 0;

  std::vector<std::string> problems;  // examples, at most a few of each kind

  // Missing and doubled are the headline; everything else must be clean too.
  bool Clean() const {
    return missing == 0 && doubled == 0 && orphans == 0 && wrong == 0 && unpublished == 0 &&
           extra_events == 0 && ledger_errors == 0 && payout_errors == 0 && unsent_emails == 0 &&
           analytics_diffs == 0 && undecodable == 0 && dead_letters == 0;
  }
  // "events=... postings=... missing=... doubled=..." (key=value, one line).
  std::string Summary() const;
};

// Reads the databases (throws when one cannot be read) and compares.
Reconciliation Reconcile(const ReconcileInput& input);

}  // namespace ates::test::faults
