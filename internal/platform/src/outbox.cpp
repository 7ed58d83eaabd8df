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

namespace ates::platform {
namespace {

constexpr std::string_view kInsert =
    "INSERT INTO outbox (id, aggregate_type, aggregate_id, event_type, event_version, payload,"
    " correlation_id, causation_id, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

constexpr std::string_view kInsertMany =
    "INSERT INTO outbox (id, aggregate_type, aggregate_id, event_type, event_version, payload,"
    " correlation_id, causation_id, occurred_at)"
    " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[],"
    " $6::bytea[], $7::text[], $8::text[], $9::timestamptz[])";

constexpr std::string_view kTryLock = "SELECT pg_try_advisory_lock($1)";
constexpr std::string_view kUnlock = "SELECT pg_advisory_unlock($1)";
// Renews the leader's lease: a session that answers still holds its lock.
constexpr std::string_view kPing = "SELECT 1";

// $2: rows of the batch before, acknowledged but not yet taken off the outbox.
constexpr std::string_view kSelectBatch =
    "SELECT seq, id, event_type, event_version, payload, correlation_id, causation_id,"
    " to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    " aggregate_id FROM outbox"
    " WHERE published_at IS NULL AND seq <> ALL($2::bigint[]) ORDER BY seq LIMIT $1";

constexpr std::string_view kNoSort = "SELECT set_config('enable_sort', 'off', true)";

constexpr std::string_view kDeletePublished = "DELETE FROM outbox WHERE seq = ANY($1::bigint[])";
constexpr std::string_view kMarkPublished =
    "UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])";
constexpr std::string_view kDeleteExpired =
    "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < now() - $1::interval";
constexpr std::string_view kLag =
    "SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)"
    " FROM outbox WHERE published_at IS NULL";

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

// Rows of a batch by round: round r holds the r-th row of every aggregate
// (aggregate_id, column 8), in outbox order. A round is sent only after the one
// before it was fully acknowledged, so no event goes out before an earlier
// event of its aggregate is stored.
std::vector<std::vector<int>> Rounds(const pg::Result& rows) {
  std::unordered_map<std::string_view, size_t> seen;
  std::vector<std::vector<int>> rounds;
  for (int i = 0; i < rows.Rows(); ++i) {
    size_t r = seen[rows.Text(i, 8)]++;
    if (r == rounds.size()) rounds.emplace_back();
    rounds[r].push_back(i);
  }
  return rounds;
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

pg::Query OutboxInsert(const events::OutgoingEvent& e) {
  return {kInsert,
          {pg::Text(e.id), pg::Text(e.aggregate_type), pg::Text(e.aggregate_id), pg::Text(e.name),
           pg::Int(e.version), pg::Bytes(e.payload), pg::Text(e.correlation_id),
           pg::Text(e.causation_id), pg::Text(events::FormatTimestamp(e.occurred_at))}};
}

pg::Query OutboxInsertMany(const std::vector<events::OutgoingEvent>& evs) {
  std::vector<std::string> ids, agg_types, agg_ids, names, payloads, corr, caus, times;
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
  }
  return {kInsertMany,
          {pg::TextArray(ids), pg::TextArray(agg_types), pg::TextArray(agg_ids),
           pg::TextArray(names), pg::IntArray(versions), pg::BytesArray(payloads),
           pg::TextArray(corr), pg::TextArray(caus), pg::TextArray(times)}};
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
  js_ = nats_.NewContext(&jo);
}

OutboxRelay::~OutboxRelay() {
  Stop();
  if (js_) jsCtx_Destroy(js_);
}

void OutboxRelay::Start() {
  running_ = true;
  thread_ = std::thread([this] { Run(); });
}

void OutboxRelay::Stop() {
  if (!running_.exchange(false)) return;
  Notify();
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Notify() {
  {
    std::lock_guard lock(mu_);
    notified_ = true;
  }
  cv_.notify_one();
}

void OutboxRelay::Wait(std::chrono::milliseconds max, bool wake_on_notify) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, max, [&] { return (wake_on_notify && notified_) || !running_; });
  notified_ = false;
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
    if (Clock::now() - last_touch_ >= touch_every_ || Clock::now() >= lease_until_) Exec(kPing);
    return true;
  }
  if (!Exec(kTryLock, {pg::Int(options_.lock_key)}).Bool(0, 0)) return false;
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
  if (!running_) {  // a normal stop: nothing for an operator to look at
    log::Info("outbox relay stepped down", {{"producer", options_.producer}, {"reason", why}});
    return;
  }
  log::Warn("outbox relay stepped down", {{"producer", options_.producer}, {"reason", why}});
}

void OutboxRelay::OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* self = static_cast<OutboxRelay*>(closure);
  const char* id = nullptr;
  natsMsgHeader_Get(msg, events::kHeaderMsgId, &id);
  {
    std::lock_guard lock(self->ack_mu_);
    int index = -1;
    if (id != nullptr) {
      auto it = self->index_of_.find(id);
      if (it != self->index_of_.end()) index = it->second;
    }
    if (index >= 0 && index < static_cast<int>(self->acked_.size()) &&
        self->acked_[index] == kInFlight) {
      const bool ok = pa != nullptr && pae == nullptr;
      self->acked_[index] = ok ? kAcked : kFailed;
      if (!ok && self->ack_error_.empty()) {
        self->ack_error_ = pae != nullptr && pae->ErrText != nullptr
                               ? pae->ErrText
                               : NatsStatusText(pae != nullptr ? pae->Err : NATS_ERR);
      }
      --self->ack_pending_;
    }
  }
  self->ack_cv_.notify_all();
  natsMsg_Destroy(msg);
}

namespace {

// One outbox row as a JetStream message, published asynchronously (the ack
// arrives in OnAck). `payload` and `occurred` are buffers reused across rows.
natsStatus PublishRow(jsCtx* js, const pg::Result& rows, int i, const std::string& producer,
                      std::string& payload, std::string& occurred) {
  // Text() views libpq's values, which are NUL-terminated.
  const char* id = rows.Text(i, 1).data();
  const char* subject = rows.Text(i, 2).data();
  DecodeBytea(rows, i, 4, payload);
  natsMsg* msg = nullptr;
  natsStatus s =
      natsMsg_Create(&msg, subject, nullptr, payload.data(), static_cast<int>(payload.size()));
  if (s == NATS_OK) {
    // Nats-Msg-Id comes from the publish options below.
    natsMsgHeader_Set(msg, events::kHeaderName, subject);
    natsMsgHeader_Set(msg, events::kHeaderVersion, rows.Text(i, 3).data());
    natsMsgHeader_Set(msg, events::kHeaderProducer, producer.c_str());
    occurred.assign(rows.Text(i, 7));  // RFC 3339, UTC
    natsMsgHeader_Set(msg, events::kHeaderOccurredAt, occurred.c_str());
    auto corr = rows.Text(i, 5);
    natsMsgHeader_Set(msg, events::kHeaderCorrelationId, corr.empty() ? id : corr.data());
    auto caus = rows.Text(i, 6);
    if (!caus.empty()) natsMsgHeader_Set(msg, events::kHeaderCausationId, caus.data());
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id;
    s = js_PublishMsgAsync(js, &msg, &po);  // takes the message on success
  }
  if (msg) natsMsg_Destroy(msg);
  return s;
}

}  // namespace

std::string OutboxRelay::PublishRound(const pg::Result& rows, const std::vector<int>& round,
                                      const std::function<void()>& while_acks_fly) {
  std::string failure;
  {
    std::lock_guard lock(ack_mu_);
    for (int i : round) acked_[i] = kInFlight;
    ack_pending_ = static_cast<int>(round.size());
    ack_error_.clear();
  }
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
    natsStatus s = PublishRow(js_, rows, i, options_.producer, payload, occurred);
    if (s != NATS_OK) {
      failure = "publish: " + NatsStatusText(s);
      break;
    }
    ++sent;
  }
  {
    std::lock_guard lock(ack_mu_);
    for (size_t k = sent; k < round.size(); ++k) {
      acked_[round[k]] = kFailed;
      --ack_pending_;
    }
  }
  if (sent == 0) return failure;
  if (while_acks_fly) while_acks_fly();
  // Acks are awaited no longer than the lease lasts: the session must not go
  // idle for leader_timeout while waiting.
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(lease_until_ - Clock::now());
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = std::max<int64_t>(1, std::min(options_.ack_timeout, left).count());
  natsStatus s = js_PublishAsyncComplete(js_, &wait);
  if (s != NATS_OK) {
    // Give up on what is still in flight; it is sent again and JetStream
    // drops the duplicates by Nats-Msg-Id.
    natsMsgList pending;
    if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) natsMsgList_Destroy(&pending);
  }
  std::unique_lock lock(ack_mu_);
  // Callbacks already running finish quickly; never wait past the ack timeout.
  ack_cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return ack_pending_ == 0; });
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

std::string OutboxRelay::PublishRounds(const pg::Result& rows,
                                       const std::function<void()>& sent_first_round) {
  const int n = rows.Rows();
  {
    std::lock_guard lock(ack_mu_);
    acked_.assign(n, kQueued);
    index_of_.clear();
    for (int i = 0; i < n; ++i) index_of_.emplace(rows.Text(i, 1), i);
  }
  std::string failure;
  const std::function<void()> nothing;
  bool first = true;
  for (const auto& round : Rounds(rows)) {
    failure = PublishRound(rows, round, first ? sent_first_round : nothing);
    first = false;
    // Rows of later rounds are not sent: each follows an earlier event of its
    // aggregate, which may be among the failed ones.
    if (!failure.empty()) break;
  }
  std::lock_guard lock(ack_mu_);
  for (auto& a : acked_) {
    if (a == kQueued) a = kFailed;  // never sent
  }
  index_of_.clear();
  return failure;
}

int OutboxRelay::PublishBatch() {
  // Publishes batch after batch while the outbox is full (for about a second, so
  // that Run's housekeeping still happens). The rows of an acknowledged batch are
  // deleted (or marked) while the next batch's acks are in flight, which overlaps
  // the database and JetStream round trips; the next SELECT skips them meanwhile.
  // A batch is published only after the one before it was fully acknowledged, so
  // the order is the same as batch by batch.
  const auto deadline = Clock::now() + std::chrono::seconds(1);
  std::vector<int64_t> done;  // acknowledged rows not yet taken off the outbox
  std::map<std::string, int> done_per_stream;
  int total = 0;
  auto take_off = [&] {
    if (done.empty()) return;
    Exec(options_.retention.count() == 0 ? kDeletePublished : kMarkPublished, {pg::IntArray(done)});
    published_ += done.size();
    total += static_cast<int>(done.size());
    if (metrics_) {
      for (const auto& [stream, count] : done_per_stream) {
        metrics_->EventsPublished(stream).Increment(count);
      }
    }
    done.clear();
    done_per_stream.clear();
  };

  for (;;) {
    // Without statistics (a burst into a just-vacuumed outbox) the planner would
    // sort the whole backlog for every batch; the partial index is in seq order.
    // set_config(.., true) lasts until the pipeline's implicit transaction ends
    // (an explicit BEGIN would leave the session in an aborted block on error).
    auto selected = ExecPipeline(
        {{kNoSort, {}}, {kSelectBatch, {pg::Int(options_.batch_size), pg::IntArray(done)}}});
    const pg::Result& rows = selected[1];
    const int n = rows.Rows();
    if (n == 0) {
      take_off();
      return total;
    }
    // The previous batch was fully acknowledged: take it off while this one flies.
    std::string failure = PublishRounds(rows, take_off);
    int acked = 0;
    for (int i = 0; i < n; ++i) {
      if (acked_[i] != kAcked) continue;
      ++acked;
      done.push_back(rows.Int(i, 0));
      if (metrics_) ++done_per_stream[events::StreamFor(rows.Text(i, 2))];
    }
    if (!failure.empty()) {
      take_off();
      throw NatsError("publish of outbox batch incomplete: " + std::to_string(acked) + "/" +
                      std::to_string(n) + " acknowledged (" + failure + ")");
    }
    if (n < options_.batch_size || !running_ || Clock::now() >= deadline) {
      take_off();
      return total;
    }
  }
}

void OutboxRelay::Run() {
  int failures = 0;
  Clock::time_point last_lag{};
  while (running_) {
    try {
      conn_.EnsureConnected();
      if (!HoldLeadership()) {
        Wait(std::min(options_.poll_interval * 5, touch_every_));
        continue;
      }
      if (!nats_.Connected()) throw NatsError("nats not connected");
      int n = PublishBatch();
      failures = 0;
      if (options_.retention.count() > 0 &&
          Clock::now() - last_cleanup_ > std::chrono::seconds(30)) {
        last_cleanup_ = Clock::now();
        Exec(kDeleteExpired,
             {pg::Text(std::to_string(options_.retention.count()) + " milliseconds")});
      }
      // The lag is a count over the whole backlog: at most once a second (an
      // empty outbox, n == 0, has none and needs no count).
      auto now = Clock::now();
      if (metrics_ && n == 0) {
        metrics_->OutboxLag().Set(0);
        metrics_->OutboxOldestAge().Set(0);
      } else if (metrics_ && now - last_lag >= std::chrono::seconds(1)) {
        last_lag = now;
        auto lag = Exec(kLag);
        metrics_->OutboxLag().Set(static_cast<double>(lag.Int(0, 0)));
        metrics_->OutboxOldestAge().Set(std::stod(lag.String(0, 1)));
      }
      if (n < options_.batch_size) {
        // Commits are trickling in: let them gather for a moment, then go on
        // at once if one woke the relay meanwhile (sleeping keeps the wake-up).
        if (n > 0 && options_.linger.count() > 0) std::this_thread::sleep_for(options_.linger);
        Wait(std::min(options_.poll_interval, touch_every_));
      }
    } catch (const std::exception& e) {
      ++failures;
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
  }
  // Hand over at once rather than when the connection closes.
  if (leader_ && conn_.Healthy() && conn_.session() == leader_session_) {
    try {
      conn_.Exec(kUnlock, {pg::Int(options_.lock_key)});
    } catch (const std::exception&) {
    }
  }
  StepDown("stopping");
}

}  // namespace ates::platform
