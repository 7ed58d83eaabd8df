// The commit of a consumer's batch: the inbox de-duplicates, the handler
// applies what is new, poison events go to the dead-letter table, all in one
// transaction; the messages are acked after it committed.
#include <nats/nats.h>

#include <cstdlib>
#include <set>

#include "ates/platform/consumer.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/metrics.hpp"
#include "ates/platform/queries.hpp"
#include "consumer_delivery.hpp"

namespace ates::platform {
namespace {

struct FreeKeys {
  void operator()(const char** keys) const { free(keys); }
};

// Every header of `msg` as "Key: value" lines (for the dead-letter record).
std::string AllHeaders(natsMsg* msg) {
  const char** raw = nullptr;
  int count = 0;
  std::string out;
  if (natsMsgHeader_Keys(msg, &raw, &count) != NATS_OK) return out;
  std::unique_ptr<const char*, FreeKeys> keys(raw);
  for (int i = 0; i < count; ++i) {
    out += raw[i];
    out += ": ";
    out += MsgHeader(msg, raw[i]);
    out += "\n";
  }
  return out;
}

// The plain insert of all ids under a savepoint: the common case, every id
// new, costs about 40% less than ON CONFLICT (no speculative insertion). A
// unique violation (a redelivery, a duplicate) rolls back to the savepoint.
bool InsertAllNew(pg::Transaction& tx, const pg::Params& inbox) {
  tx.Exec(sql::kInboxSavepoint);
  try {
    tx.Exec(sql::kInboxInsertAllNew, inbox);
    return true;
  } catch (const pg::PgError& e) {
    if (!e.IsUniqueViolation()) throw;
    tx.Exec(sql::kInboxRollback);
    return false;
  }
}

}  // namespace

size_t Consumer::ApplyFresh(pg::Transaction& tx, const std::vector<Delivery*>& items,
                            const std::vector<std::string>& ids) {
  const pg::Params inbox{pg::Text(options_.name), pg::TextArray(ids)};
  const bool all_new = InsertAllNew(tx, inbox);
  std::vector<const InboundEvent*> to_apply;
  to_apply.reserve(ids.size());
  pg::Result fresh;
  if (!all_new) fresh = tx.Exec(sql::kInboxInsert, inbox);
  if (all_new || fresh.Rows() == static_cast<int>(ids.size())) {
    // Every id was new (so no id came twice): apply them all.
    for (Delivery* d : items) {
      if (!d->dead_letter) to_apply.push_back(&d->event);
    }
  } else {
    std::set<std::string, std::less<>> fresh_ids;
    const int event_id = fresh.Rows() > 0 ? fresh.Column("event_id") : 0;
    for (int i = 0; i < fresh.Rows(); ++i) fresh_ids.insert(fresh.String(i, event_id));
    for (Delivery* d : items) {
      if (!d->dead_letter && fresh_ids.count(d->event.id)) {
        fresh_ids.erase(d->event.id);  // a batch may carry the same id twice
        to_apply.push_back(&d->event);
      }
    }
  }
  if (!to_apply.empty()) handler_.Apply(tx, to_apply);
  return to_apply.size();
}

void Consumer::InsertDeadLetters(pg::Transaction& tx, const std::vector<Delivery*>& dead) {
  std::vector<std::string> ev_ids, subjects, names, versions, reasons, headers, payloads;
  std::vector<int64_t> seqs, deliveries;
  for (Delivery* d : dead) {
    ev_ids.push_back(d->event.id);
    subjects.push_back(d->event.subject);
    names.push_back(d->event.name);
    versions.push_back(std::to_string(d->event.version));
    seqs.push_back(static_cast<int64_t>(d->event.stream_seq));
    deliveries.push_back(static_cast<int64_t>(d->attempts));
    reasons.push_back(d->reason);
    headers.push_back(AllHeaders(d->msg.get()));
    payloads.emplace_back(natsMsg_GetData(d->msg.get()),
                          static_cast<size_t>(natsMsg_GetDataLength(d->msg.get())));
  }
  tx.Exec(
      sql::kDeadLetterInsert,
      {pg::Text(options_.name), pg::TextArray(ev_ids), pg::TextArray(subjects),
       pg::TextArray(names), pg::TextArray(versions), pg::IntArray(seqs), pg::IntArray(deliveries),
       pg::TextArray(reasons), pg::TextArray(headers), pg::BytesArray(payloads)});
}

void Consumer::Settle(const std::vector<Delivery*>& items, const std::vector<Delivery*>& dead,
                      size_t ids, size_t fresh_count) {
  for (Delivery* d : items) {
    natsMsg_Ack(d->msg.get(), nullptr);
    d->settled = true;
    if (!poison_attempts_.empty()) poison_attempts_.erase(d->event.stream_seq);
  }
  applied_ += fresh_count;
  if (metrics_) {
    metrics_->EventsConsumed(options_.name).Increment(static_cast<double>(fresh_count));
    metrics_->EventsDuplicate(options_.name).Increment(static_cast<double>(ids - fresh_count));
    if (!dead.empty()) {
      metrics_->EventsDeadLettered(options_.name).Increment(static_cast<double>(dead.size()));
    }
  }
  for (Delivery* d : dead) {
    trace::Scope scope(d->event.trace);
    log::Error("event dead-lettered",
               {{"consumer", options_.name}, {"event_id", d->event.id}, {"reason", d->reason}});
  }
}

void Consumer::Commit(const std::vector<Delivery*>& items) {
  std::vector<std::string> ids;
  std::vector<Delivery*> dead;
  for (Delivery* d : items) {
    if (d->dead_letter) {
      dead.push_back(d);
    } else {
      ids.push_back(d->event.id);
    }
  }
  size_t fresh_count = 0;
  absl::MutexLock apply_lock(&apply_mu_);
  db_.InTransaction([&](pg::Transaction& tx) {
    fresh_count = ids.empty() ? 0 : ApplyFresh(tx, items, ids);
    if (!dead.empty()) InsertDeadLetters(tx, dead);
  });
  if (fresh_count > 0) handler_.AfterCommit();
  if (options_.after_commit) options_.after_commit();
  Settle(items, dead, ids.size(), fresh_count);
}

}  // namespace ates::platform
