#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
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
};

// Publishes outbox rows to JetStream in order. Exactly one replica of a service
// publishes at a time (it holds a session advisory lock); the others stand by
// and take over when its connection goes away. Rows are removed or marked only
// after JetStream acknowledged them.
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
  void Run();
  bool TryBecomeLeader();
  // Publishes one batch; returns the number of rows it took off the outbox.
  int PublishBatch();
  void Wait(std::chrono::milliseconds max, bool wake_on_notify = true);
  static void OnAck(jsCtx* js, natsMsg* msg, ::jsPubAck* pa, ::jsPubAckErr* pae, void* closure);

  RelayOptions options_;
  pg::Connection conn_;
  JetStream& nats_;
  Metrics* metrics_;
  jsCtx* js_ = nullptr;

  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> leader_{false};
  std::atomic<uint64_t> published_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;

  // Acks of the batch in flight, indexed by position in the batch.
  std::mutex ack_mu_;
  std::condition_variable ack_cv_;
  std::vector<int8_t> acked_;                      // 0 pending, 1 ok, -1 failed
  std::unordered_map<std::string, int> index_of_;  // event id -> position
  int ack_pending_ = 0;
  std::chrono::steady_clock::time_point last_cleanup_{};
};

}  // namespace ates::platform
