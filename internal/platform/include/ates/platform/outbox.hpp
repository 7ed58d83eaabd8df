#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ates/platform/events.hpp"
#include "ates/platform/pg.hpp"

typedef struct __jsCtx jsCtx;
typedef struct __natsMsg natsMsg;
struct jsPubAck;
struct jsPubAckErr;

namespace ates::platform {

class JetStream;
class Metrics;

// The statement that adds one event to the outbox inside the caller's transaction.
pg::Query OutboxInsert(const events::OutgoingEvent& event);
// Many events in one statement (set-based, for bulk changes such as a shuffle).
pg::Query OutboxInsertMany(const std::vector<events::OutgoingEvent>& events);

struct RelayOptions {
  std::string producer;  // Ates-Producer header, e.g. "ates-auth"
  int batch_size = 2000;
  std::chrono::milliseconds poll_interval{200};
  // After a partial batch, how long commits may gather before the next round
  // (each round costs a SELECT, a DELETE with its WAL flush and a publish round
  // trip, whatever its size): a bound on the rounds per second under a stream
  // of small transactions, at the price of this much extra latency.
  std::chrono::milliseconds linger{5};
  std::chrono::milliseconds retention{0};  // 0: delete rows once acked
  std::chrono::milliseconds ack_timeout{5000};
  int64_t lock_key = 0;  // advisory lock id; derived from producer when 0
  // Bound on a silent leader (frozen process, half-open connection): the
  // server ends its session after this long idle, which frees the lock for a
  // standby, and the leader itself sends nothing once 4/5 of it passed since
  // its last round trip began, until another round trip shows it still leads.
  // A live leader touches the database every quarter of it.
  std::chrono::milliseconds leader_timeout{10000};
  // Limits of the relay's connection (the pool's); its idle and TCP timeouts
  // are set from leader_timeout.
  pg::ConnectionOptions connection;
};

// Publishes outbox rows to JetStream in order. Exactly one replica of a service
// publishes at a time (it holds a session advisory lock); the others stand by
// and take over when its session ends, at the latest leader_timeout after the
// leader went silent. Rows are removed or marked only after JetStream
// acknowledged them. Events of one aggregate are stored in the stream in
// outbox order, also when a publish in the middle of a batch fails (ADR 11).
class OutboxRelay final {
 public:
  OutboxRelay(RelayOptions options, std::string conninfo, JetStream& nats, Metrics* metrics);
  ~OutboxRelay();

  void Start();
  void Stop();
  // Wakes the relay at once; call after committing a transaction that wrote events.
  void Notify();

  bool leader() const { return leader_; }
  uint64_t published() const { return published_; }

 private:
  using Clock = std::chrono::steady_clock;

  void Run();
  // True while this replica leads: renews a held lock's lease with a round
  // trip when due, or tries to take the lock.
  bool HoldLeadership();
  void StepDown(const std::string& why);
  // Whether a row may be sent now: leader on the session that took the lock,
  // within the lease of the last round trip.
  bool LeaseValid() const;
  // Statements of the relay: each success renews the lease from its start.
  pg::Result Exec(std::string_view sql, const pg::Params& params = {});
  std::vector<pg::Result> ExecPipeline(const std::vector<pg::Query>& queries);
  // Publishes outbox rows while there are full batches (about a second);
  // returns the number of rows it took off the outbox.
  int PublishBatch();
  // Publishes one selected batch in rounds (see ADR 11) into acked_; returns
  // "" when every row was acknowledged, else why not. `sent_first_round`
  // runs while the first round's acks are in flight.
  std::string PublishRounds(const pg::Result& rows, const std::function<void()>& sent_first_round);
  std::string PublishRound(const pg::Result& rows, const std::vector<int>& round,
                           const std::function<void()>& while_acks_fly);
  void Wait(std::chrono::milliseconds max, bool wake_on_notify = true);
  static void OnAck(jsCtx* js, natsMsg* msg, ::jsPubAck* pa, ::jsPubAckErr* pae, void* closure);

  RelayOptions options_;
  const std::chrono::milliseconds lease_;        // 4/5 of leader_timeout
  const std::chrono::milliseconds touch_every_;  // 1/4 of leader_timeout
  pg::Connection conn_;
  JetStream& nats_;
  Metrics* metrics_;
  jsCtx* js_ = nullptr;

  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> leader_{false};
  std::atomic<uint64_t> published_{0};
  // Relay thread only.
  uint64_t leader_session_ = 0;  // conn_.session() that holds the lock
  Clock::time_point last_touch_{};
  Clock::time_point lease_until_{};
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;

  // Acks of the batch in flight, indexed by position in the batch.
  std::mutex ack_mu_;
  std::condition_variable ack_cv_;
  static constexpr int8_t kQueued = 2, kInFlight = 0, kAcked = 1, kFailed = -1;
  std::vector<int8_t> acked_;                      // kQueued, kInFlight, kAcked or kFailed
  std::unordered_map<std::string, int> index_of_;  // event id -> position
  int ack_pending_ = 0;
  std::string ack_error_;  // the round's first rejection, for the log
  std::chrono::steady_clock::time_point last_cleanup_{};
};

}  // namespace ates::platform
