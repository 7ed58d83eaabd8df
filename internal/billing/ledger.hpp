#pragma once

#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ates/contracts/event_router.hpp"
#include "ates/platform/random.hpp"
#include "ates/platform/trace_context.hpp"

namespace ates::billing {

// The company's own account: every posting's counter-entry goes here.
inline constexpr const char* kCompanyAccount = "00000000-0000-0000-0000-000000000001";

// A schedule.billing_cycle.closed for a day after today by the database's clock. Not a database
// error, so the consumer dead-letters the event.
class FutureCloseError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LedgerSettings {
  std::string time_zone = "UTC";  // IANA name of the business day's zone
};

// Turns task and schedule events into money, set-based, one transaction per
// batch (the consumer's). Any order, duplicates and replays give the same
// ledger: prices are inserted once (ON CONFLICT DO NOTHING), each posting's id
// is the id of the event that caused it, each payout is unique per account
// and business date.
// What one batch asks of the ledger, by kind of change.
struct LedgerBatch {
  // A fee (assigned) or reward (completed) due, caused by event `event_id`.
  struct Posting {
    std::string event_id;
    std::string kind;
    std::string account_id;
    std::string task_id;
    std::string occurred_at;
    const trace::TraceContext* trace = nullptr;  // the event's, valid until Flush returns
  };
  std::set<std::string> task_ids;                                        // to price
  std::map<std::string, std::pair<std::string, std::string>> described;  // title, jira
  std::vector<Posting> postings;
  std::vector<std::pair<std::string, std::string>> closes;  // date, event id
};

class LedgerHandler final : public contracts::EventRouter<LedgerBatch> {
 public:
  LedgerHandler(LedgerSettings settings, platform::RandomPicker& random,
                std::function<void()> on_commit);

  void AfterCommit() override;

 private:
  void Flush(pg::Transaction& tx, LedgerBatch& batch) override;
  // Each adds the events it causes to `out`.
  void PriceTasks(pg::Transaction& tx, const LedgerBatch& batch,
                  std::vector<events::OutgoingEvent>& out);
  void Post(pg::Transaction& tx, const LedgerBatch& batch, std::vector<events::OutgoingEvent>& out);
  // Closes `business_date` (after every earlier open day), or pays nothing when
  // it or a later day is closed; FutureCloseError for a day after today.
  void ClosePeriod(pg::Transaction& tx, const std::string& business_date,
                   const std::string& event_id);
  void RefuseFutureClose(pg::Transaction& tx, const std::string& business_date);
  // Pays out what is due at the end of one day and records the day closed.
  void PayOut(pg::Transaction& tx, const std::string& business_date, const std::string& event_id);

  LedgerSettings settings_;
  platform::RandomPicker& random_;
  std::function<void()> on_commit_;
};

}  // namespace ates::billing
