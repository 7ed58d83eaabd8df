#include "reconciler.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <set>

#include "ates/contracts/catalogue.hpp"
#include "ates/platform/dates.hpp"
#include "ates/platform/error.hpp"
#include "ates/platform/log.hpp"
#include "billing/queries.hpp"

namespace ates::billing {
namespace {

// The business day a run reconciles (select_reconcile_day.sql).
struct DayWindow {
  int64_t start_us = 0;  // [start_us, end_us), unix microseconds
  int64_t end_us = 0;
  std::string date;
  std::string today;        // in the business zone
  int64_t snapshot_us = 0;  // the database's clock when the run began
  static DayWindow From(const pg::Row& row) {
    return {row.Int("day_start_us"), row.Int("day_end_us"), row.String("business_date"),
            row.String("today"), row.Int("snapshot_us")};
  }
};

LedgerPosting PostingFrom(const pg::Row& row) {
  return {row.String("id"),      row.String("kind"),      row.String("account_id"),
          row.String("task_id"), row.Int("amount_cents"), row.String("business_date"),
          row.Int("occurred_us")};
}

constexpr DifferenceKind kKinds[] = {DifferenceKind::kMissing, DifferenceKind::kUnexpected,
                                     DifferenceKind::kDuplicated, DifferenceKind::kMismatched};

int64_t Nanos(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

std::vector<std::string> Ids(const std::set<std::string>& ids) {
  return std::vector<std::string>(ids.begin(), ids.end());
}

// The postings of the day's events (`event_ids`) and those whose time falls in the day.
std::vector<LedgerPosting> ReadPostings(pg::Pool& db, const DayWindow& day,
                                        const std::set<std::string>& event_ids) {
  const pg::Params params = {pg::Text(day.date), pg::Int(day.start_us), pg::Int(day.end_us),
                             pg::Int(day.snapshot_us), pg::TextArray(Ids(event_ids))};
  auto r = db.WithRetry([&](pg::Connection& c) { return c.Exec(sql::kSelectDayPostings, params); });
  std::vector<LedgerPosting> postings;
  postings.reserve(r.Rows());
  for (int i = 0; i < r.Rows(); ++i) postings.push_back(PostingFrom(r.At(i)));
  return postings;
}

void ReadPrices(pg::Pool& db, const std::set<std::string>& task_ids, DayInput& input) {
  if (task_ids.empty()) return;
  auto r = db.WithRetry([&](pg::Connection& c) {
    return c.Exec(sql::kSelectTaskPrices, {pg::TextArray(Ids(task_ids))});
  });
  for (int i = 0; i < r.Rows(); ++i) {
    auto row = r.At(i);
    input.prices[row.String("task_id")] = {row.Int("assign_fee_cents"),
                                           row.Int("completion_reward_cents")};
  }
}

// Why the events without a posting have none: applied by billing's inbox, or dead-lettered.
void ReadWhyUnposted(pg::Pool& db, const std::string& consumer,
                     const std::set<std::string>& unposted, DayInput& input) {
  if (unposted.empty()) return;
  const pg::Params params = {pg::Text(consumer), pg::TextArray(Ids(unposted))};
  auto applied =
      db.WithRetry([&](pg::Connection& c) { return c.Exec(sql::kSelectAppliedEvents, params); });
  for (int i = 0; i < applied.Rows(); ++i) input.applied.insert(applied.At(i).String("event_id"));
  auto dead = db.WithRetry(
      [&](pg::Connection& c) { return c.Exec(sql::kSelectDeadLetteredEvents, params); });
  for (int i = 0; i < dead.Rows(); ++i) {
    auto row = dead.At(i);
    input.dead_lettered[row.String("event_id")] = row.String("reason");
  }
}

void LogOutcome(const ReconcileReport& report) {
  const auto& d = report.day;
  log::Info("reconciliation", {{"business_date", d.business_date},
                               {"assigned_events", std::to_string(d.assigned_events)},
                               {"completed_events", std::to_string(d.completed_events)},
                               {"postings", std::to_string(d.postings)},
                               {"missing", std::to_string(d.missing)},
                               {"unexpected", std::to_string(d.unexpected)},
                               {"duplicated", std::to_string(d.duplicated)},
                               {"mismatched", std::to_string(d.mismatched)},
                               {"messages_read", std::to_string(report.messages_read)}});
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
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(sql::kSelectReconcileDay, {pg::Text(requested), pg::Text(settings_.time_zone)});
  });
  const DayWindow day = DayWindow::From(r.At(0));
  if (day.date > day.today) {
    throw Error(ErrorCode::kInvalidArgument, "business_date is after today",
                {{"business_date", "must not be after today (" + day.today + ")"}});
  }
  ReconcileReport report;
  report.day_start_us = day.start_us;
  report.day_end_us = day.end_us;
  // Postings already written for the day: reading goes on until each has met
  // its event, however late that event was published.
  TaskStreamReader::Result read = ReadEvents(report, ReadPostings(db_, day, {}), stop_asked);

  DayInput input;
  input.business_date = day.date;
  std::set<std::string> event_ids, task_ids, unposted;
  for (const auto& e : read.events) {
    event_ids.insert(e.id);
    task_ids.insert(e.task_id);
  }
  input.events = std::move(read.events);
  input.postings = ReadPostings(db_, day, event_ids);
  std::set<std::string> posted;
  for (const auto& p : input.postings) {
    posted.insert(p.id);
    if (!p.task_id.empty()) task_ids.insert(p.task_id);
  }
  ReadPrices(db_, task_ids, input);
  for (const auto& id : event_ids) {
    if (!posted.count(id)) unposted.insert(id);
  }
  ReadWhyUnposted(db_, settings_.inbox_consumer, unposted, input);
  report.day = CompareDay(input);
  LogOutcome(report);
  return report;
}

TaskStreamReader::Result Reconciler::ReadEvents(ReconcileReport& report,
                                                const std::vector<LedgerPosting>& known,
                                                const std::function<bool()>& stop_asked) {
  std::set<std::string> fees_to_meet, rewards_to_meet;
  for (const auto& p : known)
    (p.kind == "assign_fee" ? fees_to_meet : rewards_to_meet).insert(p.id);
  // Events are published after they happen: start at the day's start (less
  // the clocks' disagreement), stop after its end plus the publishing grace.
  const int64_t start_ns = report.day_start_us * 1000 - Nanos(settings_.clock_skew);
  const int64_t stop_after_ns = report.day_end_us * 1000 + Nanos(settings_.publish_grace);
  reader_.CheckHolds(start_ns);
  TaskStreamReader::Result read;
  ReadStop fee_stop(stop_after_ns, std::move(fees_to_meet));
  reader_.Read(std::string(contracts::Spec<events::tasks::v1::TaskAssigned>().name), start_ns,
               report.day_start_us, report.day_end_us, fee_stop, stop_asked, read);
  ReadStop reward_stop(stop_after_ns, std::move(rewards_to_meet));
  reader_.Read(std::string(contracts::Spec<events::tasks::v1::TaskCompleted>().name), start_ns,
               report.day_start_us, report.day_end_us, reward_stop, stop_asked, read);
  report.messages_read = read.messages;
  report.skipped = read.skipped;
  report.read_until_ns = read.last_published_ns;
  return read;
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
