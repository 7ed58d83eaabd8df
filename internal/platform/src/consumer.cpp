#include "ates/platform/consumer.hpp"

#include <google/protobuf/message.h>
#include <nats/nats.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <random>
#include <set>

#include "ates/platform/event_envelope.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/metrics.hpp"
#include "consumer_delivery.hpp"

namespace ates::platform {

struct Consumer::Fetched {
  natsStatus status = NATS_OK;
  std::vector<NatsMsgPtr> msgs;
};

std::string MsgHeader(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, key, &value) == NATS_OK && value) return value;
  return "";
}

Consumer::Consumer(ConsumerOptions options, JetStream& nats, pg::Pool& db, EventHandler& handler,
                   Metrics* metrics)
    : options_(std::move(options)), nats_(nats), db_(db), handler_(handler), metrics_(metrics) {}

Consumer::~Consumer() { Stop(); }

void Consumer::Start() {
  if (worker_) return;
  worker_ = std::make_unique<Worker>(
      "consumer-" + options_.name, [this](Worker& self, std::stop_token stop) { Run(self, stop); });
}

void Consumer::Stop() {
  if (!worker_) return;
  worker_->Stop();  // the batch in hand is finished or handed back first
  worker_.reset();
  // Unsubscribe would not delete the durable (we bound to it), but a plain
  // destroy is enough and leaves the server-side consumer alone.
  sub_.reset();
}

void Consumer::AddOrUpdateDurable() {
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
  jsConsumerInfo* raw = nullptr;
  natsStatus s = js_AddConsumer(&raw, nats_.js(), options_.stream.c_str(), &cc, nullptr, &err);
  JsConsumerInfoPtr info(raw);
  if (s != NATS_OK) {
    raw = nullptr;
    s = js_UpdateConsumer(&raw, nats_.js(), options_.stream.c_str(), &cc, nullptr, &err);
    info.reset(raw);
  }
  if (s != NATS_OK) {
    throw NatsError("create consumer " + options_.name + " on " + options_.stream + ": " +
                    NatsStatusText(s) + " (js error " + std::to_string(static_cast<int>(err)) +
                    ")");
  }
}

void Consumer::EnsureSubscription() {
  if (sub_) return;
  AddOrUpdateDurable();
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
  jsErrCode err = static_cast<jsErrCode>(0);
  natsSubscription* raw = nullptr;
  natsStatus s = js_PullSubscribe(&raw, nats_.js(), subject.c_str(), options_.name.c_str(), nullptr,
                                  &so, &err);
  if (s != NATS_OK) throw NatsError("pull subscribe " + options_.name + ": " + NatsStatusText(s));
  sub_.reset(raw);
  log::Info("consumer bound", {{"consumer", options_.name}, {"stream", options_.stream}});
}

Consumer::Fetched Consumer::FetchBatch(natsSubscription* sub, int batch,
                                       std::chrono::milliseconds wait) {
  Fetched f;
  natsMsgList list{};
  NatsMsgListContents owner(&list);
  jsErrCode err = static_cast<jsErrCode>(0);
  f.status = natsSubscription_Fetch(&list, sub, batch, wait.count(), &err);
  f.msgs.reserve(list.Count);
  // Each message moves to the batch; the list frees only its array.
  for (int i = 0; i < list.Count; ++i) f.msgs.emplace_back(std::exchange(list.Msgs[i], nullptr));
  return f;
}

Consumer::Fetched Consumer::NextFetch(std::future<Fetched>& prefetched) {
  if (prefetched.valid()) return prefetched.get();
  if (!nats_.Connected()) throw NatsError("nats not connected");
  EnsureSubscription();
  Housekeeping();
  return FetchBatch(sub_.get(), options_.batch_size, options_.fetch_wait);
}

void Consumer::DropPrefetched(std::future<Fetched>& prefetched) {
  if (!prefetched.valid()) return;
  Fetched f = prefetched.get();
  // Back to the server at once rather than after the ack wait.
  for (auto& msg : f.msgs) natsMsg_Nak(msg.get(), nullptr);
}

void Consumer::RunOnce(std::future<Fetched>& prefetched) {
  Fetched f = NextFetch(prefetched);
  if (f.status == NATS_TIMEOUT || (f.status == NATS_OK && f.msgs.empty())) return;
  if (f.status != NATS_OK) throw NatsError("fetch: " + NatsStatusText(f.status));
  std::vector<Delivery> batch(f.msgs.size());
  for (size_t i = 0; i < f.msgs.size(); ++i) batch[i].msg = std::move(f.msgs[i]);
  // While a backlog lasts (the last fetch filled a whole batch), the next batch is
  // fetched in the background while this one is applied, which overlaps the NATS
  // and PostgreSQL round trips. Batches are still applied and acked one after the
  // other, each after its commit.
  if (static_cast<int>(batch.size()) >= options_.batch_size && !Stopping()) {
    prefetched = std::async(std::launch::async,
                            [sub = sub_.get(), n = options_.batch_size,
                             wait = options_.fetch_wait] { return FetchBatch(sub, n, wait); });
  }
  ProcessBatch(batch);  // the batch's messages are freed with it, on every path
}

void Consumer::BackOff(int failures, const std::exception& e, std::future<Fetched>& prefetched) {
  if (failures == 1 || failures % 20 == 0) {
    log::Warn("consumer backing off", {{"consumer", options_.name}, {"error", e.what()}});
  }
  if (failures >= 3 && sub_) {
    // The subscription may be stale (e.g. the consumer was lost with the
    // server's store): bind again.
    DropPrefetched(prefetched);
    sub_.reset();
  }
  self_->SleepFor(std::chrono::milliseconds(std::min(2000, 50 << std::min(failures, 6))));
}

void Consumer::Run(Worker& self, std::stop_token stop) {
  self_ = &self;
  stop_ = std::move(stop);
  int failures = 0;
  std::future<Fetched> prefetched;
  while (!Stopping()) {
    try {
      RunOnce(prefetched);
      failures = 0;
    } catch (const std::exception& e) {
      BackOff(++failures, e, prefetched);
    }
  }
  // Stopping: what was fetched ahead goes back to the server for the next run.
  DropPrefetched(prefetched);
}

void Consumer::ReadEnvelope(Delivery& d) {
  jsMsgMetaData* raw = nullptr;
  if (natsMsg_GetMetaData(&raw, d.msg.get()) == NATS_OK) {
    JsMetaDataPtr meta(raw);
    d.deliveries = meta->NumDelivered;
    d.event.stream_seq = meta->Sequence.Stream;
  }
  natsMsg* msg = d.msg.get();
  auto& ev = d.event;
  ev.id = MsgHeader(msg, events::kHeaderMsgId);
  ev.name = MsgHeader(msg, events::kHeaderName);
  auto version_text = MsgHeader(msg, events::kHeaderVersion);
  std::from_chars(version_text.data(), version_text.data() + version_text.size(), ev.version);
  ev.subject = natsMsg_GetSubject(msg);
  ev.producer = MsgHeader(msg, events::kHeaderProducer);
  ev.occurred_at = MsgHeader(msg, events::kHeaderOccurredAt);
  ev.correlation_id = MsgHeader(msg, events::kHeaderCorrelationId);
  ev.trace = trace::ContinueOrStart(MsgHeader(msg, trace::kTraceparentHeader));
}

std::vector<Consumer::Delivery*> Consumer::Decode(std::vector<Delivery>& batch) {
  std::set<std::pair<std::string, int>> accepted;
  {
    absl::MutexLock lock(&apply_mu_);
    for (auto& a : handler_.Accepts()) accepted.insert(a);
  }
  const auto& registry = events::Registry::Global();
  std::vector<Delivery*> to_commit;
  for (auto& d : batch) {
    ReadEnvelope(d);
    if (RejectEnvelope(d)) {
      to_commit.push_back(&d);
      continue;
    }
    auto& ev = d.event;
    if (!events::IsUuid(ev.id)) {
      d.reason = "missing or malformed Nats-Msg-Id '" + ev.id + "'";
    } else if (!accepted.count({ev.name, ev.version})) {
      d.reason = "unknown event " + ev.name + " v" +
                 MsgHeader(d.msg.get(), events::kHeaderVersion) + " for consumer " + options_.name;
    } else {
      ev.body =
          registry.Decode(ev.name, ev.version,
                          std::string_view(natsMsg_GetData(d.msg.get()),
                                           static_cast<size_t>(natsMsg_GetDataLength(d.msg.get()))),
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
  trace::Scope scope(d.event.trace);
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
  trace::Scope scope(d.event.trace);
  log::Warn("poison message, retrying later", {{"consumer", options_.name},
                                               {"event_id", d.event.id},
                                               {"reason", d.reason},
                                               {"attempt", std::to_string(attempts)}});
  natsMsg_NakWithDelay(d.msg.get(), delay.count(), nullptr);
  d.settled = true;
  return false;
}

std::string Consumer::CommitOrReason(const std::vector<Delivery*>& some) {
  try {
    Commit(some);
    return "";
  } catch (const pg::PgError& e) {
    if (e.IsTransient()) throw;  // not the events' fault: the caller waits
    return std::string("handler failed: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("handler failed: ") + e.what();
  }
}

void Consumer::ApplyOrIsolate(const std::vector<Delivery*>& items) {
  std::vector<Delivery*> pending;
  for (Delivery* d : items) {
    if (!d->settled) pending.push_back(d);
  }
  if (pending.empty()) return;
  if (CommitOrReason(pending).empty()) return;
  // Find the poison ones: apply one by one.
  for (Delivery* d : pending) {
    std::vector<Delivery*> one{d};
    if (d->dead_letter) {
      Commit(one);
      continue;
    }
    std::string reason = CommitOrReason(one);
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
  while (!Stopping() && std::chrono::steady_clock::now() < until) {
    if (std::chrono::steady_clock::now() - last_progress >= options_.ack_wait / 3) {
      // Still working on them: without this the server would redeliver the
      // batch after AckWait (harmless, the inbox de-duplicates, but wasteful).
      for (auto& d : batch) {
        if (!d.settled) natsMsg_InProgress(d.msg.get(), nullptr);
      }
      last_progress = std::chrono::steady_clock::now();
    }
    Housekeeping();  // retention keeps running out while the batch is held
    self_->SleepFor(std::chrono::milliseconds(50));
  }
}

void Consumer::NoteTransientFailure(const pg::PgError& e, int failures) {
  if (metrics_) metrics_->ConsumerTransientFailures(options_.name).Increment();
  if (failures == 1 || failures % 10 == 0) {
    log::Warn("database unavailable, holding the batch", {{"consumer", options_.name},
                                                          {"error", e.what()},
                                                          {"sqlstate", e.sqlstate()},
                                                          {"attempt", std::to_string(failures)}});
  }
  SetWaitingForDatabase(true);
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
      NoteTransientFailure(e, ++failures);
    }
    if (Stopping()) break;
    WaitForDatabase(batch, failures, last_progress);
    if (Stopping()) break;
  }
  // Stopping while the database is away: the messages go back to the server.
  for (auto& d : batch) {
    if (!d.settled) natsMsg_Nak(d.msg.get(), nullptr);
  }
}

}  // namespace ates::platform
