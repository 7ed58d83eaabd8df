#include "ates/platform/outbox.hpp"

#include <nats/nats.h>

#include <map>

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
    : options_(std::move(options)), conn_(std::move(conninfo)), nats_(nats), metrics_(metrics) {
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

bool OutboxRelay::TryBecomeLeader() {
  if (leader_ && conn_.Healthy()) return true;
  leader_ = false;
  auto r = conn_.Exec(kTryLock, {pg::Int(options_.lock_key)});
  leader_ = r.Bool(0, 0);
  if (metrics_) metrics_->RelayLeader().Set(leader_ ? 1 : 0);
  if (leader_) log::Info("outbox relay is leader", {{"producer", options_.producer}});
  return leader_;
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
    if (index >= 0 && index < static_cast<int>(self->acked_.size()) && self->acked_[index] == 0) {
      self->acked_[index] = (pa != nullptr && pae == nullptr) ? 1 : -1;
      --self->ack_pending_;
    }
  }
  self->ack_cv_.notify_all();
  natsMsg_Destroy(msg);
}

int OutboxRelay::PublishBatch() {
  // Publishes batch after batch while the outbox is full (for about a second, so
  // that Run's housekeeping still happens). The rows of an acknowledged batch are
  // deleted (or marked) while the next batch's acks are in flight, which overlaps
  // the database and JetStream round trips; the next SELECT skips them meanwhile.
  // A batch is published only after the one before it was fully acknowledged, so
  // the order is the same as batch by batch.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  std::vector<int64_t> done;  // acknowledged rows not yet taken off the outbox
  std::map<std::string, int> done_per_stream;
  int total = 0;
  auto take_off = [&] {
    if (done.empty()) return;
    conn_.Exec(options_.retention.count() == 0 ? kDeletePublished : kMarkPublished,
               {pg::IntArray(done)});
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

  std::string payload;
  std::string occurred;
  for (;;) {
    // Without statistics (a burst into a just-vacuumed outbox) the planner would
    // sort the whole backlog for every batch; the partial index is in seq order.
    // set_config(.., true) lasts until the pipeline's implicit transaction ends
    // (an explicit BEGIN would leave the session in an aborted block on error).
    auto selected = conn_.ExecPipeline(
        {{kNoSort, {}}, {kSelectBatch, {pg::Int(options_.batch_size), pg::IntArray(done)}}});
    const pg::Result& rows = selected[1];
    int n = rows.Rows();
    if (n == 0) {
      take_off();
      return total;
    }
    {
      std::lock_guard lock(ack_mu_);
      acked_.assign(n, 0);
      ack_pending_ = n;
      index_of_.clear();
      for (int i = 0; i < n; ++i) index_of_.emplace(rows.Text(i, 1), i);
    }
    int sent = 0;
    for (int i = 0; i < n; ++i) {
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
        natsMsgHeader_Set(msg, events::kHeaderProducer, options_.producer.c_str());
        // PostgreSQL's text form "2026-11-25 22:45:53.123+00" -> RFC 3339.
        occurred.assign(rows.Text(i, 7));  // RFC 3339, UTC
        natsMsgHeader_Set(msg, events::kHeaderOccurredAt, occurred.c_str());
        auto corr = rows.Text(i, 5);
        natsMsgHeader_Set(msg, events::kHeaderCorrelationId, corr.empty() ? id : corr.data());
        auto caus = rows.Text(i, 6);
        if (!caus.empty()) natsMsgHeader_Set(msg, events::kHeaderCausationId, caus.data());
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MsgId = id;
        s = js_PublishMsgAsync(js_, &msg, &po);
      }
      if (s != NATS_OK) {
        if (msg) natsMsg_Destroy(msg);
        std::lock_guard lock(ack_mu_);
        acked_[i] = -1;
        --ack_pending_;
        break;
      }
      ++sent;
    }
    {
      std::lock_guard lock(ack_mu_);
      for (int i = sent; i < n; ++i) {
        if (acked_[i] == 0) {
          acked_[i] = -1;
          --ack_pending_;
        }
      }
    }
    // The previous batch was fully acknowledged: take it off while this one flies.
    take_off();
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = options_.ack_timeout.count();
    natsStatus s = js_PublishAsyncComplete(js_, &wait);
    if (s != NATS_OK) {
      // Give up on what is still in flight; it is sent again and JetStream
      // drops the duplicates by Nats-Msg-Id.
      natsMsgList pending;
      if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) natsMsgList_Destroy(&pending);
    }
    int prefix = 0;
    {
      std::unique_lock lock(ack_mu_);
      // Callbacks already running finish quickly; never wait past the ack timeout.
      ack_cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return ack_pending_ == 0; });
      while (prefix < n && acked_[prefix] == 1) ++prefix;
      acked_.clear();
      index_of_.clear();
    }
    for (int i = 0; i < prefix; ++i) {
      done.push_back(rows.Int(i, 0));
      if (metrics_) ++done_per_stream[events::StreamFor(rows.Text(i, 2))];
    }
    if (prefix < n) {
      take_off();
      throw NatsError("publish of outbox batch incomplete: " + std::to_string(prefix) + "/" +
                      std::to_string(n) + " acknowledged (" + NatsStatusText(s) + ")");
    }
    if (n < options_.batch_size || !running_ || std::chrono::steady_clock::now() >= deadline) {
      take_off();
      return total;
    }
  }
}

void OutboxRelay::Run() {
  int failures = 0;
  std::chrono::steady_clock::time_point last_lag{};
  while (running_) {
    try {
      conn_.EnsureConnected();
      if (!TryBecomeLeader()) {
        Wait(options_.poll_interval * 5);
        continue;
      }
      if (!nats_.Connected()) throw NatsError("nats not connected");
      int n = PublishBatch();
      failures = 0;
      if (options_.retention.count() > 0 &&
          std::chrono::steady_clock::now() - last_cleanup_ > std::chrono::seconds(30)) {
        last_cleanup_ = std::chrono::steady_clock::now();
        conn_.Exec(kDeleteExpired,
                   {pg::Text(std::to_string(options_.retention.count()) + " milliseconds")});
      }
      // The lag is a count over the whole backlog: at most once a second (an
      // empty outbox, n == 0, has none and needs no count).
      auto now = std::chrono::steady_clock::now();
      if (metrics_ && n == 0) {
        metrics_->OutboxLag().Set(0);
        metrics_->OutboxOldestAge().Set(0);
      } else if (metrics_ && now - last_lag >= std::chrono::seconds(1)) {
        last_lag = now;
        auto lag = conn_.Exec(kLag);
        metrics_->OutboxLag().Set(static_cast<double>(lag.Int(0, 0)));
        metrics_->OutboxOldestAge().Set(std::stod(lag.String(0, 1)));
      }
      if (n < options_.batch_size) {
        // Commits are trickling in: let them gather for a moment, then go on
        // at once if one woke the relay meanwhile (sleeping keeps the wake-up).
        if (n > 0 && options_.linger.count() > 0) std::this_thread::sleep_for(options_.linger);
        Wait(options_.poll_interval);
      }
    } catch (const std::exception& e) {
      ++failures;
      if (!conn_.Healthy()) {
        leader_ = false;
        if (metrics_) metrics_->RelayLeader().Set(0);
      }
      auto delay = std::chrono::milliseconds(std::min(5000, 50 << std::min(failures, 7)));
      if (failures == 1 || failures % 20 == 0) {
        log::Warn("outbox relay backing off",
                  {{"error", e.what()}, {"delay_ms", std::to_string(delay.count())}});
      }
      Wait(delay, /*wake_on_notify=*/false);
    }
  }
  leader_ = false;
}

}  // namespace ates::platform
