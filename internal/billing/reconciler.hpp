#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "ates/platform/pg.hpp"
#include "reconcile.hpp"
#include "task_stream.hpp"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace ates::billing {

struct ReconcileSettings {
  std::string time_zone = "UTC";  // business_day.time_zone
  // Billing's TASKS consumer: its inbox tells whether a missing posting's
  // event was applied at all.
  std::string inbox_consumer = "billing_tasks";
  // How long after the day's end its last events may still be published
  // (relay lag, NATS away). Reading goes on past this while a posting of the
  // day has not met its event.
  std::chrono::milliseconds publish_grace{std::chrono::hours(1)};
  // Clocks of the producer and the NATS server may disagree by this much.
  std::chrono::milliseconds clock_skew{std::chrono::minutes(5)};
  // A run that takes longer gives up (UNAVAILABLE).
  std::chrono::milliseconds max_duration{std::chrono::minutes(5)};
};

struct ReconcileReport {
  DayReconciliation day;
  int64_t day_start_us = 0;  // the business day, [start, end)
  int64_t day_end_us = 0;
  int64_t messages_read = 0;  // both subjects, copies included
  int64_t skipped = 0;        // messages the ledger would not post (see DecodeTaskEvent)
  int64_t read_until_ns = 0;  // publish time of the last message read
};

// Runs CompareDay for a business day on live data: reads the day's task
// events from TASKS and the linked postings from billing's database, and
// records the outcome in metrics. One run at a time per process.
class Reconciler final {
 public:
  // `registry` (optional) gets ates_reconcile_differences{kind} (the last run)
  // and ates_reconcile_runs_total{result}.
  Reconciler(ReconcileSettings settings, pg::Pool& db, platform::JetStream& nats,
             prometheus::Registry* registry = nullptr);

  // `business_date` "" is today. INVALID_ARGUMENT for a malformed date or one after today,
  // FAILED_PRECONDITION when TASKS no longer holds the day, UNAVAILABLE when NATS is away or the
  // run is cancelled (`cancelled`, asked between batches) or too slow.
  ReconcileReport ReconcileDay(const std::string& business_date,
                               const std::function<bool()>& cancelled = {});

 private:
  ReconcileReport Run(const std::string& requested, const std::function<bool()>& cancelled);
  // Reads the day's task events from TASKS until each of the `known` postings
  // met its event; fills the report's stream counts.
  TaskStreamReader::Result ReadEvents(ReconcileReport& report,
                                      const std::vector<LedgerPosting>& known,
                                      const std::function<bool()>& stop_asked);
  void Record(const DayReconciliation* day);

  ReconcileSettings settings_;
  pg::Pool& db_;
  TaskStreamReader reader_;
  std::mutex run_mu_;
  prometheus::Gauge* differences_[4] = {};  // by DifferenceKind
  prometheus::Counter* runs_clean_ = nullptr;
  prometheus::Counter* runs_differences_ = nullptr;
  prometheus::Counter* runs_failed_ = nullptr;
};

}  // namespace ates::billing
