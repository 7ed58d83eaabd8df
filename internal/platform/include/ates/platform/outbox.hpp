#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ates/platform/events.hpp"
#include "ates/platform/handles.hpp"
#include "ates/platform/pg.hpp"
#include "ates/platform/worker.hpp"

struct jsPubAck;
struct jsPubAckErr;

namespace ates::platform {

class JetStream;
class Metrics;

// The statement that adds one event to the outbox inside the caller's transaction.
pg::Query OutboxInsert(const events::OutgoingEvent& event);
// Many events in one statement (set-based, for bulk changes such as a shuffle).
pg::Query OutboxInsertMany(const std::vector<events::OutgoingEvent>& events);
// The current trace context's traceparent as a parameter (NULL for none), for
// a service's own statement that writes outbox rows.
pg::Param CurrentTraceparent();

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

  // Starts the relay's worker ("outbox-relay"); Stop ends it after its
  // current step and hands the leadership over at once.
  void Start();
  void Stop();
  // Wakes the relay at once; call after committing a transaction that wrote events.
  void Notify();

  bool leader() const { return leader_; }
  uint64_t published() const { return published_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Batch;
  struct Taken;

  void Run(Worker& self, std::stop_token stop);
  // One round of the loop: leadership, publishing, housekeeping, waiting.
  void Step();
  // After a failed step: steps down if the session went, waits with back-off.
  void BackOff(int failures, const std::exception& e);
  // On stop: releases the lock if this replica leads, and steps down.
  void Release();
  bool Stopping() const { return stop_.stop_requested(); }
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
  // Housekeeping after a publishing round of `n` rows.
  void DeleteExpired();
  void ReportLag(int n);
  // Sleeps up to `max` (to the end when !wake_on_notify), or until stop.
  void Wait(std::chrono::milliseconds max, bool wake_on_notify = true);

  // The publish path: select, publish (in rounds), await acks, take off.
  // Publishes outbox rows while there are full batches (about a second);
  // returns the number of rows it took off the outbox.
  int PublishBatch();
  // The next unpublished rows, skipping `taken`'s (acked, not yet taken off).
  Batch SelectBatch(const Taken& taken);
  // Publishes one selected batch in rounds (see ADR 11) into acked_; returns
  // "" when every row was acknowledged, else why not. `sent_first_round`
  // runs while the first round's acks are in flight.
  std::string PublishRounds(const Batch& batch, const std::function<void()>& sent_first_round);
  std::string PublishRound(const Batch& batch, const std::vector<int>& round,
                           const std::function<void()>& while_acks_fly);
  // Sends `round`'s rows while the lease holds; returns how many went out
  // and sets `failure` when not all did.
  size_t SendRound(const Batch& batch, const std::vector<int>& round, std::string& failure);
  // Waits for the round's acks within the ack timeout and the lease.
  std::string AwaitAcks(const std::vector<int>& round, std::string failure);
  // Adds the batch's acknowledged rows to `taken`; returns how many.
  int CollectAcked(const Batch& batch, Taken& taken);
  // Deletes (or marks) the rows in `taken` and counts them published.
  void TakeOff(Taken& taken, int& total);
  static void OnAck(jsCtx* js, natsMsg* msg, ::jsPubAck* pa, ::jsPubAckErr* pae, void* closure);
  void RecordAck(const char* id, ::jsPubAck* pa, ::jsPubAckErr* pae);
  bool AllAcksIn() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(ack_mu_) { return ack_pending_ == 0; }

  RelayOptions options_;
  const std::chrono::milliseconds lease_;        // 4/5 of leader_timeout
  const std::chrono::milliseconds touch_every_;  // 1/4 of leader_timeout
  pg::Connection conn_;
  JetStream& nats_;
  Metrics* metrics_;
  JsContextPtr js_;

  absl::Mutex worker_mu_;
  std::unique_ptr<Worker> worker_ ABSL_GUARDED_BY(worker_mu_);
  std::atomic<bool> leader_{false};
  std::atomic<uint64_t> published_{0};
  // The relay's worker only (set by Run).
  Worker* self_ = nullptr;
  std::stop_token stop_;
  uint64_t leader_session_ = 0;  // conn_.session() that holds the lock
  Clock::time_point last_touch_{};
  Clock::time_point lease_until_{};
  Clock::time_point last_cleanup_{};
  Clock::time_point last_lag_{};
  int failures_ = 0;

  // Acks of the batch in flight, indexed by position in the batch; written by
  // the relay's worker and by nats.c's ack handler thread (OnAck).
  absl::Mutex ack_mu_;
  static constexpr int8_t kQueued = 2, kInFlight = 0, kAcked = 1, kFailed = -1;
  // kQueued, kInFlight, kAcked or kFailed
  std::vector<int8_t> acked_ ABSL_GUARDED_BY(ack_mu_);
  // event id -> position
  std::unordered_map<std::string, int> index_of_ ABSL_GUARDED_BY(ack_mu_);
  int ack_pending_ ABSL_GUARDED_BY(ack_mu_) = 0;
  // the round's first rejection, for the log
  std::string ack_error_ ABSL_GUARDED_BY(ack_mu_);
};

}  // namespace ates::platform
