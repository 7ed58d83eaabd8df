#include "ates/platform/outbox.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/metrics.hpp"
#include "ates/platform/queries.hpp"
#include "ates/platform/trace_context.hpp"

namespace ates::platform {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A bytea column in text format into `out` (reused across rows, no allocation
// per row): PostgreSQL's hex output "\x4a6f..", else libpq's general decoder.
void DecodeBytea(const pg::Result& rows, int row, int col, std::string& out) {
  std::string_view text = rows.Text(row, col);
  if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x' && text.size() % 2 == 0) {
    size_t n = (text.size() - 2) / 2;
    out.resize(n);
    bool ok = true;
    for (size_t i = 0; i < n; ++i) {
      int hi = HexDigit(text[2 + 2 * i]), lo = HexDigit(text[3 + 2 * i]);
      if (hi < 0 || lo < 0) {
        ok = false;
        break;
      }
      out[i] = static_cast<char>((hi << 4) | lo);
    }
    if (ok) return;
  }
  out = rows.Bytes(row, col);
}

// The relay's connection. The server ends a session that stays idle (or idle
// in a transaction) for leader_timeout, and with it the advisory lock. Nothing
// else it detects may end the session sooner, or a leader would publish on
// while a standby took over: a dead peer is noticed by TCP no earlier than
// leader_timeout either (unacknowledged data, keepalive probes).
pg::ConnectionOptions RelayConnection(const RelayOptions& o) {
  pg::ConnectionOptions c = o.connection;
  c.idle_session_timeout = o.leader_timeout;
  c.idle_in_transaction_timeout = o.leader_timeout;
  c.tcp_user_timeout = o.leader_timeout;
  c.keepalives_idle = std::max(c.keepalives_idle, o.leader_timeout);
  return c;
}

int64_t KeyFor(const std::string& producer) {
  // FNV-1a: a stable lock id per service, distinct from the migration lock.
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : "outbox-relay:" + producer) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<int64_t>(h >> 1);
}

}  // namespace

// Rows of outbox_select_batch.sql, their columns looked up by name once per
// batch (not per row: this is the relay's hot path).
struct OutboxRelay::Batch {
  pg::Result rows;
  int seq = 0, id = 0, event_type = 0, event_version = 0, payload = 0, correlation_id = 0,
      causation_id = 0, occurred_at = 0, aggregate_id = 0, traceparent = 0;

  static Batch From(pg::Result rows) {
    Batch b;
    b.rows = rows;
    b.seq = rows.Column("seq");
    b.id = rows.Column("id");
    b.event_type = rows.Column("event_type");
    b.event_version = rows.Column("event_version");
    b.payload = rows.Column("payload");
    b.correlation_id = rows.Column("correlation_id");
    b.causation_id = rows.Column("causation_id");
    b.occurred_at = rows.Column("occurred_at");
    b.aggregate_id = rows.Column("aggregate_id");
    b.traceparent = rows.Column("traceparent");
    return b;
  }
  int size() const { return rows.Rows(); }

  // Rows by round: round r holds the r-th row of every aggregate, in outbox
  // order. A round is sent only after the one before it was fully
  // acknowledged, so no event goes out before an earlier event of its
  // aggregate is stored.
  std::vector<std::vector<int>> Rounds() const {
    std::unordered_map<std::string_view, size_t> seen;
    std::vector<std::vector<int>> rounds;
    for (int i = 0; i < size(); ++i) {
      size_t r = seen[rows.Text(i, aggregate_id)]++;
      if (r == rounds.size()) rounds.emplace_back();
      rounds[r].push_back(i);
    }
    return rounds;
  }
};

// Acknowledged rows not yet taken off the outbox.
struct OutboxRelay::Taken {
  std::vector<int64_t> seqs;
  std::map<std::string, int> per_stream;  // for the metrics
};

pg::Query OutboxInsert(const events::OutgoingEvent& e) {
  return {sql::kOutboxInsert,
          {pg::Text(e.id), pg::Text(e.aggregate_type), pg::Text(e.aggregate_id), pg::Text(e.name),
           pg::Int(e.version), pg::Bytes(e.payload), pg::Text(e.correlation_id),
           pg::Text(e.causation_id), pg::Text(events::FormatTimestamp(e.occurred_at)),
           e.traceparent.empty() ? pg::Null() : pg::Text(e.traceparent)}};
}

pg::Query OutboxInsertMany(const std::vector<events::OutgoingEvent>& evs) {
  std::vector<std::string> ids, agg_types, agg_ids, names, payloads, corr, caus, times, traces;
  std::vector<int64_t> versions;
  for (const auto& e : evs) {
    ids.push_back(e.id);
    agg_types.push_back(e.aggregate_type);
    agg_ids.push_back(e.aggregate_id);
    names.push_back(e.name);
    versions.push_back(e.version);
    payloads.push_back(e.payload);
    corr.push_back(e.correlation_id);
    caus.push_back(e.causation_id);
    times.push_back(events::FormatTimestamp(e.occurred_at));
    traces.push_back(e.traceparent);
  }
  return {
      sql::kOutboxInsertMany,
      {pg::TextArray(ids), pg::TextArray(agg_types), pg::TextArray(agg_ids), pg::TextArray(names),
       pg::IntArray(versions), pg::BytesArray(payloads), pg::TextArray(corr), pg::TextArray(caus),
       pg::TextArray(times), pg::NullableTextArray(traces, "")}};
}

pg::Param CurrentTraceparent() {
  const auto* context = trace::Current();
  return context ? pg::Text(context->Traceparent()) : pg::Null();
}

OutboxRelay::OutboxRelay(RelayOptions options, std::string conninfo, JetStream& nats,
                         Metrics* metrics)
    : options_(std::move(options)),
      lease_(options_.leader_timeout * 4 / 5),
      touch_every_(options_.leader_timeout / 4),
      conn_(std::move(conninfo), RelayConnection(options_)),
      nats_(nats),
      metrics_(metrics) {
  if (options_.leader_timeout.count() <= 0) {
    throw std::invalid_argument("OutboxRelay: leader_timeout must be positive");
  }
  if (options_.lock_key == 0) options_.lock_key = KeyFor(options_.producer);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options_.ack_timeout.count();
  jo.PublishAsync.AckHandler = reinterpret_cast<jsPubAckHandler>(&OutboxRelay::OnAck);
  jo.PublishAsync.AckHandlerClosure = this;
  jo.PublishAsync.MaxPending = 1 << 16;
  js_.reset(nats_.NewContext(&jo));
}

// Stops the worker before js_ (and the rest) go.
OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Start() {
  absl::MutexLock lock(&worker_mu_);
  if (worker_) return;
  worker_ = std::make_unique<Worker>(
      "outbox-relay", [this](Worker& self, std::stop_token stop) { Run(self, stop); });
}

void OutboxRelay::Stop() {
  std::unique_ptr<Worker> worker;
  {
    absl::MutexLock lock(&worker_mu_);
    worker = std::move(worker_);
  }
  // Joined outside the lock: Notify() from other threads never waits for it.
  if (worker) worker->Stop();
}

void OutboxRelay::Notify() {
  absl::MutexLock lock(&worker_mu_);
  if (worker_) worker_->Wake();
}

void OutboxRelay::Wait(std::chrono::milliseconds max, bool wake_on_notify) {
  const auto until = Clock::now() + max;
  // Without wake_on_notify a wake-up is used up here and the wait goes on.
  while (self_->SleepFor(std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now())) &&
         !wake_on_notify && Clock::now() < until) {
  }
}

pg::Result OutboxRelay::Exec(std::string_view sql, const pg::Params& params) {
  auto sent = Clock::now();
  auto result = conn_.Exec(sql, params);
  last_touch_ = sent;
  lease_until_ = sent + lease_;
  return result;
}

std::vector<pg::Result> OutboxRelay::ExecPipeline(const std::vector<pg::Query>& queries) {
  auto sent = Clock::now();
  auto results = conn_.ExecPipeline(queries);
  last_touch_ = sent;
  lease_until_ = sent + lease_;
  return results;
}

bool OutboxRelay::LeaseValid() const {
  return leader_ && conn_.session() == leader_session_ && Clock::now() < lease_until_;
}

bool OutboxRelay::HoldLeadership() {
  if (leader_ && conn_.session() != leader_session_) StepDown("database session lost");
  if (leader_) {
    // The session (and so the lock) is alive as long as it answers; the server
    // ends it after leader_timeout of silence, so never stay silent that long.
    if (Clock::now() - last_touch_ >= touch_every_ || Clock::now() >= lease_until_) {
      Exec(sql::kRelayPing);
    }
    return true;
  }
  auto locked = Exec(sql::kRelayTryLock, {pg::Int(options_.lock_key)});
  if (!locked.At(0).Bool("locked")) return false;
  leader_session_ = conn_.session();
  leader_ = true;
  if (metrics_) metrics_->RelayLeader().Set(1);
  log::Info("outbox relay is leader", {{"producer", options_.producer}});
  return true;
}

void OutboxRelay::StepDown(const std::string& why) {
  if (!leader_) return;
  leader_ = false;
  if (metrics_) metrics_->RelayLeader().Set(0);
  if (Stopping()) {  // a normal stop: nothing for an operator to look at
    log::Info("outbox relay stepped down", {{"producer", options_.producer}, {"reason", why}});
    return;
  }
  log::Warn("outbox relay stepped down", {{"producer", options_.producer}, {"reason", why}});
}

void OutboxRelay::OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  NatsMsgPtr owned(msg);  // the ack handler owns the message
  const char* id = nullptr;
  natsMsgHeader_Get(msg, events::kHeaderMsgId, &id);
  static_cast<OutboxRelay*>(closure)->RecordAck(id, pa, pae);
}

void OutboxRelay::RecordAck(const char* id, jsPubAck* pa, jsPubAckErr* pae) {
  absl::MutexLock lock(&ack_mu_);
  int index = -1;
  if (id != nullptr) {
    auto it = index_of_.find(id);
    if (it != index_of_.end()) index = it->second;
  }
  if (index < 0 || index >= static_cast<int>(acked_.size()) || acked_[index] != kInFlight) return;
  const bool ok = pa != nullptr && pae == nullptr;
  acked_[index] = ok ? kAcked : kFailed;
  if (!ok && ack_error_.empty()) {
    ack_error_ = pae != nullptr && pae->ErrText != nullptr
                     ? pae->ErrText
                     : NatsStatusText(pae != nullptr ? pae->Err : NATS_ERR);
  }
  --ack_pending_;
}

namespace {

// Sets the Ates-* headers (and traceparent) of one outbox row; `occurred` is a
// buffer reused across rows. Nats-Msg-Id comes from the publish options.
template <class Batch>
void SetHeaders(natsMsg* msg, const Batch& b, int i, const std::string& producer,
                std::string& occurred) {
  // Text() views libpq's values, which are NUL-terminated.
  const pg::Result& rows = b.rows;
  const char* subject = rows.Text(i, b.event_type).data();
  natsMsgHeader_Set(msg, events::kHeaderName, subject);
  natsMsgHeader_Set(msg, events::kHeaderVersion, rows.Text(i, b.event_version).data());
  natsMsgHeader_Set(msg, events::kHeaderProducer, producer.c_str());
  occurred.assign(rows.Text(i, b.occurred_at));  // RFC 3339, UTC
  natsMsgHeader_Set(msg, events::kHeaderOccurredAt, occurred.c_str());
  auto corr = rows.Text(i, b.correlation_id);
  natsMsgHeader_Set(msg, events::kHeaderCorrelationId,
                    corr.empty() ? rows.Text(i, b.id).data() : corr.data());
  auto caus = rows.Text(i, b.causation_id);
  if (!caus.empty()) natsMsgHeader_Set(msg, events::kHeaderCausationId, caus.data());
  auto traceparent = rows.Text(i, b.traceparent);
  if (!traceparent.empty()) natsMsgHeader_Set(msg, trace::kTraceparentHeader, traceparent.data());
}

// One outbox row as a JetStream message, published asynchronously (the ack
// arrives in OnAck). `payload` and `occurred` are buffers reused across rows.
template <class Batch>
natsStatus PublishRow(jsCtx* js, const Batch& b, int i, const std::string& producer,
                      std::string& payload, std::string& occurred) {
  DecodeBytea(b.rows, i, b.payload, payload);
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, b.rows.Text(i, b.event_type).data(), nullptr, payload.data(),
                                static_cast<int>(payload.size()));
  NatsMsgPtr msg(raw);
  if (s != NATS_OK) return s;
  SetHeaders(msg.get(), b, i, producer, occurred);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = b.rows.Text(i, b.id).data();
  raw = msg.release();
  s = js_PublishMsgAsync(js, &raw, &po);  // takes the message (raw = NULL) on success
  msg.reset(raw);
  return s;
}

}  // namespace

size_t OutboxRelay::SendRound(const Batch& batch, const std::vector<int>& round,
                              std::string& failure) {
  std::string payload;
  std::string occurred;
  size_t sent = 0;
  for (int i : round) {
    // Checked per row: a leader frozen for a while must not send on when it
    // thaws, as a standby may lead by then.
    if (!LeaseValid()) {
      failure = "leadership not confirmed within outbox.leader_timeout";
      break;
    }
    natsStatus s = PublishRow(js_.get(), batch, i, options_.producer, payload, occurred);
    if (s != NATS_OK) {
      failure = "publish: " + NatsStatusText(s);
      break;
    }
    ++sent;
  }
  absl::MutexLock lock(&ack_mu_);
  for (size_t k = sent; k < round.size(); ++k) {
    acked_[round[k]] = kFailed;
    --ack_pending_;
  }
  return sent;
}

std::string OutboxRelay::AwaitAcks(const std::vector<int>& round, std::string failure) {
  // Acks are awaited no longer than the lease lasts: the session must not go
  // idle for leader_timeout while waiting.
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(lease_until_ - Clock::now());
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = std::max<int64_t>(1, std::min(options_.ack_timeout, left).count());
  natsStatus s = js_PublishAsyncComplete(js_.get(), &wait);
  if (s != NATS_OK) {
    // Give up on what is still in flight; it is sent again and JetStream
    // drops the duplicates by Nats-Msg-Id.
    natsMsgList pending{};
    NatsMsgListContents drop(&pending);
    js_PublishAsyncGetPendingList(&pending, js_.get());
  }
  absl::MutexLock lock(&ack_mu_);
  // Callbacks already running finish quickly; never wait past the ack timeout.
  ack_mu_.AwaitWithTimeout(absl::Condition(this, &OutboxRelay::AllAcksIn), absl::Milliseconds(50));
  int unacked = 0;
  for (int i : round) {
    if (acked_[i] == kInFlight) acked_[i] = kFailed;  // a late ack is ignored
    if (acked_[i] != kAcked) ++unacked;
  }
  if (failure.empty() && unacked > 0) {
    failure = std::to_string(unacked) + " of " + std::to_string(round.size()) + " not stored (" +
              (ack_error_.empty() ? NatsStatusText(s) : ack_error_) + ")";
  }
  return failure;
}

std::string OutboxRelay::PublishRound(const Batch& batch, const std::vector<int>& round,
                                      const std::function<void()>& while_acks_fly) {
  {
    absl::MutexLock lock(&ack_mu_);
    for (int i : round) acked_[i] = kInFlight;
    ack_pending_ = static_cast<int>(round.size());
    ack_error_.clear();
  }
  std::string failure;
  if (SendRound(batch, round, failure) == 0) return failure;
  if (while_acks_fly) while_acks_fly();
  return AwaitAcks(round, std::move(failure));
}

std::string OutboxRelay::PublishRounds(const Batch& batch,
                                       const std::function<void()>& sent_first_round) {
  const int n = batch.size();
  {
    absl::MutexLock lock(&ack_mu_);
    acked_.assign(n, kQueued);
    index_of_.clear();
    for (int i = 0; i < n; ++i) index_of_.emplace(batch.rows.Text(i, batch.id), i);
  }
  std::string failure;
  const std::function<void()> nothing;
  bool first = true;
  for (const auto& round : batch.Rounds()) {
    failure = PublishRound(batch, round, first ? sent_first_round : nothing);
    first = false;
    // Rows of later rounds are not sent: each follows an earlier event of its
    // aggregate, which may be among the failed ones.
    if (!failure.empty()) break;
  }
  absl::MutexLock lock(&ack_mu_);
  for (auto& a : acked_) {
    if (a == kQueued) a = kFailed;  // never sent
  }
  index_of_.clear();
  return failure;
}

OutboxRelay::Batch OutboxRelay::SelectBatch(const Taken& taken) {
  // Without statistics (a burst into a just-vacuumed outbox) the planner would
  // sort the whole backlog for every batch; the partial index is in seq order.
  // set_config(.., true) lasts until the pipeline's implicit transaction ends
  // (an explicit BEGIN would leave the session in an aborted block on error).
  auto selected = ExecPipeline(
      {{sql::kRelayNoSort, {}},
       {sql::kOutboxSelectBatch, {pg::Int(options_.batch_size), pg::IntArray(taken.seqs)}}});
  return Batch::From(std::move(selected[1]));
}

int OutboxRelay::CollectAcked(const Batch& batch, Taken& taken) {
  absl::MutexLock lock(&ack_mu_);
  int acked = 0;
  for (int i = 0; i < batch.size(); ++i) {
    if (acked_[i] != kAcked) continue;
    ++acked;
    taken.seqs.push_back(batch.rows.Int(i, batch.seq));
    if (metrics_) ++taken.per_stream[events::StreamFor(batch.rows.Text(i, batch.event_type))];
  }
  return acked;
}

void OutboxRelay::TakeOff(Taken& taken, int& total) {
  if (taken.seqs.empty()) return;
  Exec(options_.retention.count() == 0 ? sql::kOutboxDeletePublished : sql::kOutboxMarkPublished,
       {pg::IntArray(taken.seqs)});
  published_ += taken.seqs.size();
  total += static_cast<int>(taken.seqs.size());
  if (metrics_) {
    for (const auto& [stream, count] : taken.per_stream) {
      metrics_->EventsPublished(stream).Increment(count);
    }
  }
  taken.seqs.clear();
  taken.per_stream.clear();
}

int OutboxRelay::PublishBatch() {
  // Publishes batch after batch while the outbox is full (for about a second, so
  // that Run's housekeeping still happens). The rows of an acknowledged batch are
  // taken off while the next batch's acks are in flight, which overlaps the
  // database and JetStream round trips; the next SELECT skips them meanwhile.
  // A batch is published only after the one before it was fully acknowledged, so
  // the order is the same as batch by batch.
  const auto deadline = Clock::now() + std::chrono::seconds(1);
  Taken taken;
  int total = 0;
  const std::function<void()> take_off = [&] { TakeOff(taken, total); };
  for (;;) {
    Batch batch = SelectBatch(taken);
    const int n = batch.size();
    if (n == 0) break;
    // The previous batch was fully acknowledged: take it off while this one flies.
    std::string failure = PublishRounds(batch, take_off);
    int acked = CollectAcked(batch, taken);
    if (!failure.empty()) {
      TakeOff(taken, total);
      throw NatsError("publish of outbox batch incomplete: " + std::to_string(acked) + "/" +
                      std::to_string(n) + " acknowledged (" + failure + ")");
    }
    if (n < options_.batch_size || Stopping() || Clock::now() >= deadline) break;
  }
  TakeOff(taken, total);
  return total;
}

void OutboxRelay::DeleteExpired() {
  if (options_.retention.count() <= 0 || Clock::now() - last_cleanup_ <= std::chrono::seconds(30)) {
    return;
  }
  last_cleanup_ = Clock::now();
  Exec(sql::kOutboxDeleteExpired,
       {pg::Text(std::to_string(options_.retention.count()) + " milliseconds")});
}

void OutboxRelay::ReportLag(int n) {
  if (!metrics_) return;
  // The lag is a count over the whole backlog: at most once a second (an
  // empty outbox, n == 0, has none and needs no count).
  if (n == 0) {
    metrics_->OutboxLag().Set(0);
    metrics_->OutboxOldestAge().Set(0);
    return;
  }
  auto now = Clock::now();
  if (now - last_lag_ < std::chrono::seconds(1)) return;
  last_lag_ = now;
  auto lag = Exec(sql::kOutboxLag).At(0);
  metrics_->OutboxLag().Set(static_cast<double>(lag.Int("backlog")));
  metrics_->OutboxOldestAge().Set(std::stod(lag.String("oldest_age_s")));
}

void OutboxRelay::Step() {
  conn_.EnsureConnected();
  if (!HoldLeadership()) {
    Wait(std::min(options_.poll_interval * 5, touch_every_));
    return;
  }
  if (!nats_.Connected()) throw NatsError("nats not connected");
  int n = PublishBatch();
  failures_ = 0;
  DeleteExpired();
  ReportLag(n);
  if (n < options_.batch_size) {
    // Commits are trickling in: let them gather for a moment, then go on
    // at once if one woke the relay meanwhile (sleeping keeps the wake-up).
    if (n > 0 && options_.linger.count() > 0) std::this_thread::sleep_for(options_.linger);
    Wait(std::min(options_.poll_interval, touch_every_));
  }
}

void OutboxRelay::BackOff(int failures, const std::exception& e) {
  // A broken or replaced session took the lock with it.
  if (!conn_.Healthy() || conn_.session() != leader_session_) StepDown(e.what());
  // While NATS is down the leader still comes back within touch_every_ to
  // keep its session (and the lock) alive.
  auto delay = std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(std::min(5000, 50 << std::min(failures, 7))), touch_every_);
  if (failures == 1 || failures % 20 == 0) {
    log::Warn("outbox relay backing off",
              {{"error", e.what()}, {"delay_ms", std::to_string(delay.count())}});
  }
  Wait(delay, /*wake_on_notify=*/false);
}

void OutboxRelay::Release() {
  // Hand over at once rather than when the connection closes.
  if (leader_ && conn_.Healthy() && conn_.session() == leader_session_) {
    try {
      conn_.Exec(sql::kRelayUnlock, {pg::Int(options_.lock_key)});
    } catch (const std::exception&) {
    }
  }
  StepDown("stopping");
}

void OutboxRelay::Run(Worker& self, std::stop_token stop) {
  self_ = &self;
  stop_ = std::move(stop);
  failures_ = 0;
  while (!Stopping()) {
    try {
      Step();
    } catch (const std::exception& e) {
      BackOff(++failures_, e);
    }
  }
  Release();
}

}  // namespace ates::platform
