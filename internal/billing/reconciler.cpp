#include "reconciler.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <set>

#include "ates/platform/dates.hpp"
#include "ates/platform/error.hpp"
#include "ates/platform/log.hpp"

namespace ates::billing {
namespace {

// The business day ($1, or today when empty) as unix microseconds [start, end)
// in the zone, the day itself, today's date there, and the database's clock now.
constexpr std::string_view kDay =
    "WITH d AS (SELECT COALESCE(NULLIF($1, '')::date, (now() AT TIME ZONE $2)::date) AS day)"
    " SELECT (EXTRACT(EPOCH FROM (day::timestamp AT TIME ZONE $2)) * 1000000)::int8,"
    " (EXTRACT(EPOCH FROM ((day + 1)::timestamp AT TIME ZONE $2)) * 1000000)::int8,"
    " day::text, (now() AT TIME ZONE $2)::date::text, (EXTRACT(EPOCH FROM now()) * 1000000)::int8"
    " FROM d";

// The postings of the day's events ($5, wherever they are) and the postings
// whose time falls in the day ($2..$3) written before $4. The latter are on the
// day's date, or on a later one when the day was closed before they arrived
// (the first open day then), never after the day after the last close: the
// range keeps to the transactions_day index.
constexpr std::string_view kPostings =
    "SELECT t.id::text, t.kind, t.account_id::text, COALESCE(t.task_id::text, ''),"
    " t.amount_cents, t.business_date::text,"
    " (EXTRACT(EPOCH FROM t.occurred_at) * 1000000)::int8"
    " FROM transactions t"
    " WHERE t.kind IN ('assign_fee', 'completion_reward') AND (t.id = ANY($5::uuid[]) OR ("
    "  t.business_date BETWEEN $1::date"
    "   AND GREATEST($1::date, (SELECT max(business_date) FROM billing_cycles) + 1)"
    "  AND t.occurred_at >= 'epoch'::timestamptz + $2::int8 * interval '1 microsecond'"
    "  AND t.occurred_at < 'epoch'::timestamptz + $3::int8 * interval '1 microsecond'"
    "  AND t.created_at < 'epoch'::timestamptz + $4::int8 * interval '1 microsecond'))";

constexpr std::string_view kPrices =
    "SELECT task_id::text, assign_fee_cents, completion_reward_cents FROM task_prices"
    " WHERE task_id = ANY($1::uuid[])";
constexpr std::string_view kApplied =
    "SELECT event_id::text FROM processed_events"
    " WHERE consumer = $1 AND event_id = ANY($2::uuid[])";
constexpr std::string_view kDeadLettered =
    "SELECT event_id, reason FROM dead_letters WHERE consumer = $1 AND event_id = ANY($2::text[])";

constexpr DifferenceKind kKinds[] = {DifferenceKind::kMissing, DifferenceKind::kUnexpected,
                                     DifferenceKind::kDuplicated, DifferenceKind::kMismatched};

int64_t Nanos(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

std::vector<std::string> Ids(const std::set<std::string>& ids) {
  return std::vector<std::string>(ids.begin(), ids.end());
}

}  // namespace

Reconciler::Reconciler(ReconcileSettings settings, pg::Pool& db, platform::JetStream& nats,
                       prometheus::Registry* registry)
    : settings_(std::move(settings)), db_(db), reader_(nats) {
  if (registry == nullptr) return;
  auto& diffs = prometheus::BuildGauge()
                    .Name("ates_reconcile_differences")
                    .Help(
                        "Differences between TASKS and the ledger found by the last "
                        "reconciliation, by kind (missing, unexpected, duplicated, mismatched).")
                    .Register(*registry);
  for (auto kind : kKinds) {
    differences_[static_cast<int>(kind)] = &diffs.Add({{"kind", NameOf(kind)}});
  }
  auto& runs = prometheus::BuildCounter()
                   .Name("ates_reconcile_runs_total")
                   .Help("Reconciliations run, by result (clean, differences, failed).")
                   .Register(*registry);
  runs_clean_ = &runs.Add({{"result", "clean"}});
  runs_differences_ = &runs.Add({{"result", "differences"}});
  runs_failed_ = &runs.Add({{"result", "failed"}});
}

ReconcileReport Reconciler::ReconcileDay(const std::string& business_date,
                                         const std::function<bool()>& cancelled) {
  Validator v;
  v.Check(business_date.empty() || platform::ParseDate(business_date).has_value(), "business_date",
          "must be a date YYYY-MM-DD (empty: today)");
  v.ThrowIfInvalid();
  std::lock_guard lock(run_mu_);  // one run's memory and NATS consumers at a time
  try {
    ReconcileReport report = Run(business_date, cancelled);
    Record(&report.day);
    return report;
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidArgument) Record(nullptr);
    throw;
  } catch (...) {
    Record(nullptr);
    throw;
  }
}

ReconcileReport Reconciler::Run(const std::string& requested,
                                const std::function<bool()>& cancelled) {
  const auto deadline = std::chrono::steady_clock::now() + settings_.max_duration;
  auto stop_asked = [&] {
    return std::chrono::steady_clock::now() > deadline || (cancelled && cancelled());
  };
  ReconcileReport report;
  auto day = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(kDay, {pg::Text(requested), pg::Text(settings_.time_zone)});
  });
  report.day_start_us = day.Int(0, 0);
  report.day_end_us = day.Int(0, 1);
  const std::string date = day.String(0, 2);
  const std::string today = day.String(0, 3);
  const int64_t snapshot_us = day.Int(0, 4);
  if (date > today) {
    throw Error(ErrorCode::kInvalidArgument, "business_date is after today",
                {{"business_date", "must not be after today (" + today + ")"}});
  }
  auto postings = [&](const std::set<std::string>& event_ids) {
    const pg::Params params = {pg::Text(date), pg::Int(report.day_start_us),
                               pg::Int(report.day_end_us), pg::Int(snapshot_us),
                               pg::TextArray(Ids(event_ids))};
    return db_.WithRetry([&](pg::Connection& c) { return c.Exec(kPostings, params); });
  };

  // Postings already written for the day: reading goes on until each has met
  // its event, however late that event was published.
  std::set<std::string> fees_to_meet, rewards_to_meet;
  auto known = postings({});
  for (int i = 0; i < known.Rows(); ++i) {
    (known.Text(i, 1) == "assign_fee" ? fees_to_meet : rewards_to_meet).insert(known.String(i, 0));
  }

  // Events are published after they happen: start at the day's start (less
  // the clocks' disagreement), stop after its end plus the publishing grace.
  const int64_t start_ns = report.day_start_us * 1000 - Nanos(settings_.clock_skew);
  const int64_t stop_after_ns = report.day_end_us * 1000 + Nanos(settings_.publish_grace);
  reader_.CheckHolds(start_ns);
  TaskStreamReader::Result read;
  ReadStop fee_stop(stop_after_ns, std::move(fees_to_meet));
  reader_.Read("tasks.task.assigned", start_ns, report.day_start_us, report.day_end_us, fee_stop,
               stop_asked, read);
  ReadStop reward_stop(stop_after_ns, std::move(rewards_to_meet));
  reader_.Read("tasks.task.completed", start_ns, report.day_start_us, report.day_end_us,
               reward_stop, stop_asked, read);
  report.messages_read = read.messages;
  report.skipped = read.skipped;
  report.read_until_ns = read.last_published_ns;

  DayInput input;
  input.business_date = date;
  std::set<std::string> event_ids, task_ids;
  for (const auto& e : read.events) {
    event_ids.insert(e.id);
    task_ids.insert(e.task_id);
  }
  input.events = std::move(read.events);

  auto rows = postings(event_ids);
  std::set<std::string> posted;
  for (int i = 0; i < rows.Rows(); ++i) {
    LedgerPosting p{rows.String(i, 0), rows.String(i, 1), rows.String(i, 2), rows.String(i, 3),
                    rows.Int(i, 4),    rows.String(i, 5), rows.Int(i, 6)};
    posted.insert(p.id);
    if (!p.task_id.empty()) task_ids.insert(p.task_id);
    input.postings.push_back(std::move(p));
  }
  if (!task_ids.empty()) {
    auto prices = db_.WithRetry(
        [&](pg::Connection& c) { return c.Exec(kPrices, {pg::TextArray(Ids(task_ids))}); });
    for (int i = 0; i < prices.Rows(); ++i) {
      input.prices[prices.String(i, 0)] = {prices.Int(i, 1), prices.Int(i, 2)};
    }
  }
  // Why the events without a posting have none.
  std::set<std::string> unposted;
  for (const auto& id : event_ids) {
    if (!posted.count(id)) unposted.insert(id);
  }
  if (!unposted.empty()) {
    const pg::Params params = {pg::Text(settings_.inbox_consumer), pg::TextArray(Ids(unposted))};
    auto applied = db_.WithRetry([&](pg::Connection& c) { return c.Exec(kApplied, params); });
    for (int i = 0; i < applied.Rows(); ++i) input.applied.insert(applied.String(i, 0));
    auto dead = db_.WithRetry([&](pg::Connection& c) { return c.Exec(kDeadLettered, params); });
    for (int i = 0; i < dead.Rows(); ++i)
      input.dead_lettered[dead.String(i, 0)] = dead.String(i, 1);
  }

  report.day = CompareDay(input);
  const auto& d = report.day;
  log::Info("reconciliation", {{"business_date", date},
                               {"assigned_events", std::to_string(d.assigned_events)},
                               {"completed_events", std::to_string(d.completed_events)},
                               {"postings", std::to_string(d.postings)},
                               {"missing", std::to_string(d.missing)},
                               {"unexpected", std::to_string(d.unexpected)},
                               {"duplicated", std::to_string(d.duplicated)},
                               {"mismatched", std::to_string(d.mismatched)},
                               {"messages_read", std::to_string(report.messages_read)}});
  return report;
}

void Reconciler::Record(const DayReconciliation* day) {
  if (runs_failed_ == nullptr) return;
  if (day == nullptr) {
    runs_failed_->Increment();
    return;
  }
  for (auto kind : kKinds) {
    differences_[static_cast<int>(kind)]->Set(static_cast<double>(day->Count(kind)));
  }
  (day->Differences() == 0 ? runs_clean_ : runs_differences_)->Increment();
}

}  // namespace ates::billing
