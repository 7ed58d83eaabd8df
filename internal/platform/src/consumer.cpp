#include "ates/platform/consumer.hpp"

#include <google/protobuf/message.h>
#include <nats/nats.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <future>
#include <random>
#include <set>

#include "ates/platform/event_envelope.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/metrics.hpp"

namespace ates::platform {
namespace {

constexpr std::string_view kInboxInsert =
    "INSERT INTO processed_events (consumer, event_id)"
    " SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id";
// The common case, every id new: a plain INSERT costs about 40% less than one
// with ON CONFLICT (no speculative insertion). It runs under a savepoint; a
// unique violation (a redelivery, a duplicate) rolls back to it and kInboxInsert
// sorts the batch out.
constexpr std::string_view kInboxInsertAllNew =
    "INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::uuid[])";
constexpr std::string_view kInboxSavepoint = "SAVEPOINT inbox";
constexpr std::string_view kInboxRollback = "ROLLBACK TO SAVEPOINT inbox";

constexpr std::string_view kDeadLetterInsert =
    "INSERT INTO dead_letters (consumer, event_id, subject, event_type, event_version, stream_seq,"
    " deliveries, reason, headers, payload)"
    " SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],"
    " $7::int[], $8::text[], $9::text[], $10::bytea[])"
    " ON CONFLICT (consumer, stream_seq) DO NOTHING";

std::string Header(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, key, &value) == NATS_OK && value) return value;
  return "";
}

struct Fetched {
  natsStatus status = NATS_OK;
  natsMsgList list{};
};

Fetched Fetch(natsSubscription* sub, int batch, std::chrono::milliseconds wait) {
  Fetched f;
  jsErrCode err = static_cast<jsErrCode>(0);
  f.status = natsSubscription_Fetch(&f.list, sub, batch, wait.count(), &err);
  return f;
}

std::string AllHeaders(natsMsg* msg) {
  const char** keys = nullptr;
  int count = 0;
  std::string out;
  if (natsMsgHeader_Keys(msg, &keys, &count) != NATS_OK) return out;
  for (int i = 0; i < count; ++i) {
    out += keys[i];
    out += ": ";
    out += Header(msg, keys[i]);
    out += "\n";
  }
  free(keys);
  return out;
}

}  // namespace

struct Consumer::Delivery {
  natsMsg* msg = nullptr;
  InboundEvent event;
  uint64_t deliveries = 1;  // the server's count, for the dead-letter record
  int attempts = 0;         // poison attempts counted by this consumer
  std::string reason;       // non-empty: poison
  bool dead_letter = false;
  bool settled = false;  // acked or offered again: nothing more to do in this batch
};

Consumer::Consumer(ConsumerOptions options, JetStream& nats, pg::Pool& db, EventHandler& handler,
                   Metrics* metrics)
    : options_(std::move(options)), nats_(nats), db_(db), handler_(handler), metrics_(metrics) {}

Consumer::~Consumer() { Stop(); }

void Consumer::Start() {
  running_ = true;
  thread_ = std::thread([this] { Run(); });
}

void Consumer::Stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
  if (sub_) {
    // Unsubscribe would not delete the durable (we bound to it), but a plain
    // destroy is enough and leaves the server-side consumer alone.
    natsSubscription_Destroy(sub_);
    sub_ = nullptr;
  }
}

void Consumer::EnsureSubscription() {
  if (sub_) return;
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = options_.name.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.ack_wait).count();
  // No server-side limit: the server would stop delivering silently once it
  // is spent (an outage of minutes spends it). The consumer dead-letters poison
  // itself, and transient failures never count.
  cc.MaxDeliver = -1;
  cc.MaxAckPending = std::max(20000, options_.batch_size * 4);
  cc.MaxWaiting = 512;
  if (!options_.filter_subject.empty()) cc.FilterSubject = options_.filter_subject.c_str();
  jsErrCode err = static_cast<jsErrCode>(0);
  jsConsumerInfo* info = nullptr;
  natsStatus s = js_AddConsumer(&info, nats_.js(), options_.stream.c_str(), &cc, nullptr, &err);
  if (s != NATS_OK) {
    if (info) jsConsumerInfo_Destroy(info);
    info = nullptr;
    s = js_UpdateConsumer(&info, nats_.js(), options_.stream.c_str(), &cc, nullptr, &err);
  }
  if (info) jsConsumerInfo_Destroy(info);
  if (s != NATS_OK) {
    throw NatsError("create consumer " + options_.name + " on " + options_.stream + ": " +
                    NatsStatusText(s) + " (js error " + std::to_string(static_cast<int>(err)) +
                    ")");
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options_.stream.c_str();
  so.Consumer = options_.name.c_str();
  std::string subject = options_.filter_subject;
  if (subject.empty()) {
    subject = options_.stream;
    std::transform(subject.begin(), subject.end(), subject.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    subject += ".>";
  }
  s = js_PullSubscribe(&sub_, nats_.js(), subject.c_str(), options_.name.c_str(), nullptr, &so,
                       &err);
  if (s != NATS_OK) {
    sub_ = nullptr;
    throw NatsError("pull subscribe " + options_.name + ": " + NatsStatusText(s));
  }
  log::Info("consumer bound", {{"consumer", options_.name}, {"stream", options_.stream}});
}

void Consumer::Run() {
  int failures = 0;
  // While a backlog lasts (the last fetch filled a whole batch), the next batch is
  // fetched in the background while this one is applied, which overlaps the NATS
  // and PostgreSQL round trips. Batches are still applied and acked one after the
  // other, each after its commit.
  std::future<Fetched> next;
  auto drop_prefetched = [&] {
    if (!next.valid()) return;
    Fetched f = next.get();
    // Back to the server at once rather than after the ack wait.
    for (int i = 0; i < f.list.Count; ++i) natsMsg_Nak(f.list.Msgs[i], nullptr);
    natsMsgList_Destroy(&f.list);
  };
  while (running_) {
    try {
      Fetched f;
      if (next.valid()) {
        f = next.get();
      } else {
        if (!nats_.Connected()) throw NatsError("nats not connected");
        EnsureSubscription();
        Housekeeping();
        f = Fetch(sub_, options_.batch_size, options_.fetch_wait);
      }
      if (f.status == NATS_TIMEOUT || (f.status == NATS_OK && f.list.Count == 0)) {
        natsMsgList_Destroy(&f.list);
        failures = 0;
        continue;
      }
      if (f.status != NATS_OK) {
        natsMsgList_Destroy(&f.list);
        throw NatsError("fetch: " + NatsStatusText(f.status));
      }
      std::vector<Delivery> batch(f.list.Count);
      for (int i = 0; i < f.list.Count; ++i) {
        batch[i].msg = f.list.Msgs[i];
        f.list.Msgs[i] = nullptr;  // ownership moves to the batch
      }
      natsMsgList_Destroy(&f.list);
      if (static_cast<int>(batch.size()) >= options_.batch_size && running_) {
        next = std::async(std::launch::async,
                          [sub = sub_, n = options_.batch_size, wait = options_.fetch_wait] {
                            return Fetch(sub, n, wait);
                          });
      }
      try {
        ProcessBatch(batch);
      } catch (...) {
        for (auto& d : batch) natsMsg_Destroy(d.msg);
        throw;
      }
      for (auto& d : batch) natsMsg_Destroy(d.msg);
      failures = 0;
    } catch (const std::exception& e) {
      ++failures;
      if (failures == 1 || failures % 20 == 0) {
        log::Warn("consumer backing off", {{"consumer", options_.name}, {"error", e.what()}});
      }
      if (failures >= 3 && sub_) {
        // The subscription may be stale (e.g. the consumer was lost with the
        // server's store): bind again.
        drop_prefetched();
        natsSubscription_Destroy(sub_);
        sub_ = nullptr;
      }
      auto delay = std::chrono::milliseconds(std::min(2000, 50 << std::min(failures, 6)));
      for (auto waited = std::chrono::milliseconds(0); running_ && waited < delay;
           waited += std::chrono::milliseconds(50)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
  // Stopping: what was fetched ahead goes back to the server for the next run.
  drop_prefetched();
}

std::vector<Consumer::Delivery*> Consumer::Decode(std::vector<Delivery>& batch) {
  std::set<std::pair<std::string, int>> accepted;
  for (auto& a : handler_.Accepts()) accepted.insert(a);
  const auto& registry = events::Registry::Global();
  std::vector<Delivery*> to_commit;
  for (auto& d : batch) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, d.msg) == NATS_OK) {
      d.deliveries = meta->NumDelivered;
      d.event.stream_seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
    }
    auto& ev = d.event;
    ev.id = Header(d.msg, events::kHeaderMsgId);
    ev.name = Header(d.msg, events::kHeaderName);
    auto version_text = Header(d.msg, events::kHeaderVersion);
    std::from_chars(version_text.data(), version_text.data() + version_text.size(), ev.version);
    ev.subject = natsMsg_GetSubject(d.msg);
    ev.producer = Header(d.msg, events::kHeaderProducer);
    ev.occurred_at = Header(d.msg, events::kHeaderOccurredAt);
    ev.correlation_id = Header(d.msg, events::kHeaderCorrelationId);
    if (RejectEnvelope(d)) {
      to_commit.push_back(&d);
      continue;
    }
    if (!events::IsUuid(ev.id)) {
      d.reason = "missing or malformed Nats-Msg-Id '" + ev.id + "'";
    } else if (!accepted.count({ev.name, ev.version})) {
      d.reason =
          "unknown event " + ev.name + " v" + version_text + " for consumer " + options_.name;
    } else {
      ev.body = registry.Decode(ev.name, ev.version,
                                std::string_view(natsMsg_GetData(d.msg),
                                                 static_cast<size_t>(natsMsg_GetDataLength(d.msg))),
                                &d.reason);
    }
    if (d.reason.empty() || CountPoison(d)) to_commit.push_back(&d);
  }
  return to_commit;
}

bool Consumer::RejectEnvelope(Delivery& d) {
  if (!options_.verify_envelope) return false;
  std::string why = events::EnvelopeMismatch(d.event.subject, d.event.name, d.event.producer);
  if (why.empty()) return false;
  // Never true on a later attempt: dead-lettered at once, never applied.
  d.reason = "envelope rejected: " + why;
  d.dead_letter = true;
  d.attempts = 1;
  if (metrics_) metrics_->EventsEnvelopeRejected(options_.name).Increment();
  log::Error("event envelope rejected", {{"consumer", options_.name},
                                         {"event_id", d.event.id},
                                         {"subject", d.event.subject},
                                         {"producer", d.event.producer},
                                         {"reason", why}});
  return true;
}

bool Consumer::CountPoison(Delivery& d) {
  // Counted here rather than from the server's delivery count, which also
  // grows with every redelivery after a crash or an outage.
  if (poison_attempts_.size() > 100000) poison_attempts_.clear();  // stale entries of replicas
  int attempts = ++poison_attempts_[d.event.stream_seq];
  d.attempts = attempts;
  if (attempts >= options_.max_deliver) {
    d.dead_letter = true;
    return true;
  }
  auto idx = std::min<size_t>(attempts - 1, options_.backoff.size() - 1);
  auto delay = options_.backoff.empty() ? std::chrono::milliseconds(1000) : options_.backoff[idx];
  log::Warn("poison message, retrying later", {{"consumer", options_.name},
                                               {"event_id", d.event.id},
                                               {"reason", d.reason},
                                               {"attempt", std::to_string(attempts)}});
  natsMsg_NakWithDelay(d.msg, delay.count(), nullptr);
  d.settled = true;
  return false;
}

void Consumer::ApplyOrIsolate(const std::vector<Delivery*>& items) {
  std::vector<Delivery*> pending;
  for (Delivery* d : items) {
    if (!d->settled) pending.push_back(d);
  }
  if (pending.empty()) return;
  auto commit_or_reason = [this](const std::vector<Delivery*>& some) -> std::string {
    try {
      Commit(some);
      return "";
    } catch (const pg::PgError& e) {
      if (e.IsTransient()) throw;  // not the events' fault: the caller waits
      return std::string("handler failed: ") + e.what();
    } catch (const std::exception& e) {
      return std::string("handler failed: ") + e.what();
    }
  };
  if (commit_or_reason(pending).empty()) return;
  // Find the poison ones: apply one by one.
  for (Delivery* d : pending) {
    std::vector<Delivery*> one{d};
    if (d->dead_letter) {
      Commit(one);
      continue;
    }
    std::string reason = commit_or_reason(one);
    if (reason.empty()) continue;
    d->reason = std::move(reason);
    if (CountPoison(*d)) Commit(one);
  }
}

void Consumer::SetWaitingForDatabase(bool waiting) {
  if (waiting_for_database_.exchange(waiting) == waiting) return;
  if (metrics_) metrics_->ConsumerWaitingForDatabase(options_.name).Set(waiting ? 1 : 0);
  if (waiting) {
    log::Error("consumer waiting for the database", {{"consumer", options_.name}});
  } else {
    log::Info("consumer resumed, database is back", {{"consumer", options_.name}});
  }
}

void Consumer::WaitForDatabase(std::vector<Delivery>& batch, int failures,
                               std::chrono::steady_clock::time_point& last_progress) {
  thread_local std::minstd_rand jitter(std::random_device{}());
  auto cap = std::max<int64_t>(100, options_.transient_backoff_max.count());
  auto full = std::min<int64_t>(cap, int64_t{100} << std::min(failures, 10));
  // Equal jitter: replicas that lost the database together do not return in step.
  auto delay =
      std::chrono::milliseconds(full / 2 + static_cast<int64_t>(jitter() % (full / 2 + 1)));
  const auto until = std::chrono::steady_clock::now() + delay;
  while (running_ && std::chrono::steady_clock::now() < until) {
    if (std::chrono::steady_clock::now() - last_progress >= options_.ack_wait / 3) {
      // Still working on them: without this the server would redeliver the
      // batch after AckWait (harmless, the inbox de-duplicates, but wasteful).
      for (auto& d : batch) {
        if (!d.settled) natsMsg_InProgress(d.msg, nullptr);
      }
      last_progress = std::chrono::steady_clock::now();
    }
    Housekeeping();  // retention keeps running out while the batch is held
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Consumer::ProcessBatch(std::vector<Delivery>& batch) {
  std::vector<Delivery*> to_commit = Decode(batch);
  auto last_progress = std::chrono::steady_clock::now();
  for (int failures = 0;;) {
    try {
      ApplyOrIsolate(to_commit);
      SetWaitingForDatabase(false);
      return;
    } catch (const pg::PgError& e) {
      if (!e.IsTransient()) throw;
      ++failures;
      if (metrics_) metrics_->ConsumerTransientFailures(options_.name).Increment();
      if (failures == 1 || failures % 10 == 0) {
        log::Warn("database unavailable, holding the batch",
                  {{"consumer", options_.name},
                   {"error", e.what()},
                   {"sqlstate", e.sqlstate()},
                   {"attempt", std::to_string(failures)}});
      }
      SetWaitingForDatabase(true);
    }
    if (!running_) break;
    WaitForDatabase(batch, failures, last_progress);
    if (!running_) break;
  }
  // Stopping while the database is away: the messages go back to the server.
  for (auto& d : batch) {
    if (!d.settled) natsMsg_Nak(d.msg, nullptr);
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
  std::lock_guard apply_lock(apply_mu_);
  db_.InTransaction([&](pg::Transaction& tx) {
    fresh_count = 0;
    if (!ids.empty()) {
      const pg::Params inbox{pg::Text(options_.name), pg::TextArray(ids)};
      bool all_new = false;
      tx.Exec(kInboxSavepoint);
      try {
        tx.Exec(kInboxInsertAllNew, inbox);
        all_new = true;
      } catch (const pg::PgError& e) {
        if (!e.IsUniqueViolation()) throw;
        tx.Exec(kInboxRollback);
      }
      std::vector<const InboundEvent*> to_apply;
      to_apply.reserve(ids.size());
      pg::Result fresh;
      if (!all_new) fresh = tx.Exec(kInboxInsert, inbox);
      if (all_new || fresh.Rows() == static_cast<int>(ids.size())) {
        // Every id was new (so no id came twice): apply them all.
        for (Delivery* d : items) {
          if (!d->dead_letter) to_apply.push_back(&d->event);
        }
      } else {
        std::set<std::string, std::less<>> fresh_ids;
        for (int i = 0; i < fresh.Rows(); ++i) fresh_ids.insert(fresh.String(i, 0));
        for (Delivery* d : items) {
          if (!d->dead_letter && fresh_ids.count(d->event.id)) {
            fresh_ids.erase(d->event.id);  // a batch may carry the same id twice
            to_apply.push_back(&d->event);
          }
        }
      }
      fresh_count = to_apply.size();
      if (!to_apply.empty()) handler_.Apply(tx, to_apply);
    }
    if (!dead.empty()) {
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
        headers.push_back(AllHeaders(d->msg));
        payloads.emplace_back(natsMsg_GetData(d->msg),
                              static_cast<size_t>(natsMsg_GetDataLength(d->msg)));
      }
      tx.Exec(kDeadLetterInsert,
              {pg::Text(options_.name), pg::TextArray(ev_ids), pg::TextArray(subjects),
               pg::TextArray(names), pg::TextArray(versions), pg::IntArray(seqs),
               pg::IntArray(deliveries), pg::TextArray(reasons), pg::TextArray(headers),
               pg::BytesArray(payloads)});
    }
  });
  if (fresh_count > 0) handler_.AfterCommit();
  if (options_.after_commit) options_.after_commit();
  for (Delivery* d : items) {
    natsMsg_Ack(d->msg, nullptr);
    d->settled = true;
    if (!poison_attempts_.empty()) poison_attempts_.erase(d->event.stream_seq);
  }
  applied_ += fresh_count;
  if (metrics_) {
    metrics_->EventsConsumed(options_.name).Increment(static_cast<double>(fresh_count));
    metrics_->EventsDuplicate(options_.name)
        .Increment(static_cast<double>(ids.size() - fresh_count));
    if (!dead.empty()) {
      metrics_->EventsDeadLettered(options_.name).Increment(static_cast<double>(dead.size()));
    }
  }
  for (Delivery* d : dead) {
    log::Error("event dead-lettered",
               {{"consumer", options_.name}, {"event_id", d->event.id}, {"reason", d->reason}});
  }
}

}  // namespace ates::platform
