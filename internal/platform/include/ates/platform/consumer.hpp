#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <vector>

#include "ates/platform/handles.hpp"
#include "ates/platform/pg.hpp"
#include "ates/platform/trace_context.hpp"
#include "ates/platform/worker.hpp"

namespace google::protobuf {
class Message;
}

namespace ates::platform {

class JetStream;
class Metrics;

// A decoded event as a handler sees it.
struct InboundEvent {
  std::string id;  // Nats-Msg-Id
  std::string name;
  int version = 0;
  std::string subject;
  std::string producer;     // Ates-Producer
  std::string occurred_at;  // RFC 3339 from Ates-Occurred-At
  std::string correlation_id;
  uint64_t stream_seq = 0;
  // The producer's trace (header `traceparent`) with a span of its own for
  // applying this event; a new trace when the message carries none. A handler
  // that logs about one event of a batch makes it current (trace::Scope).
  trace::TraceContext trace;
  std::unique_ptr<google::protobuf::Message> body;

  template <class T>
  const T& As() const {
    return static_cast<const T&>(*body);
  }
};

// Applies events to a service's database. Apply gets only events whose ids the
// inbox has not seen, all inside one transaction; it must be written so that
// any order of arrival gives the same result, and should be set-based.
class EventHandler {
 public:
  virtual ~EventHandler() = default;
  // (name, version) pairs this handler understands; others are dead-lettered.
  virtual std::vector<std::pair<std::string, int>> Accepts() const = 0;
  virtual void Apply(pg::Transaction& tx, const std::vector<const InboundEvent*>& events) = 0;
  // Runs after a batch that had new events committed (e.g. to wake the relay:
  // before the commit, there is nothing to see yet).
  virtual void AfterCommit() {}
};

struct ConsumerOptions {
  std::string name;            // durable name, no dots; also the inbox's consumer key
  std::string stream;          // e.g. "ACCOUNTS"
  std::string filter_subject;  // "" = the whole stream
  int batch_size = 1000;
  std::chrono::milliseconds fetch_wait{500};
  std::chrono::milliseconds ack_wait{30000};
  // Attempts before a poison message (one that cannot be applied) is
  // dead-lettered, counted by this consumer. Transient failures (the database
  // away, timeouts) never count, and the server has no delivery limit.
  int max_deliver = 5;
  // Delay before a poison message is offered again, by attempt (the last repeats).
  std::vector<std::chrono::milliseconds> backoff{std::chrono::milliseconds(200),
                                                 std::chrono::seconds(1), std::chrono::seconds(5)};
  // While the database is unavailable the consumer holds its batch and retries
  // with jittered exponential back-off up to this delay.
  std::chrono::milliseconds transient_backoff_max{std::chrono::seconds(10)};
  // Inbox rows (processed event ids) older than this are deleted, but only when
  // the stream keeps events for less (plus its duplicate window): an id that
  // can still be delivered is never forgotten. 0: never prune.
  std::chrono::milliseconds inbox_retention{0};
  // How often the consumer checks its retention headroom and prunes its inbox.
  std::chrono::milliseconds housekeeping_interval{std::chrono::seconds(30)};
  // Dead-letter at once, never apply, a message whose subject, Ates-Event-Name
  // and Ates-Producer disagree (event_envelope.hpp). Off only for tests of the
  // consumer machinery on private streams outside the four domains.
  bool verify_envelope = true;
  // Test hook: runs after a batch committed and before it is acked.
  std::function<void()> after_commit;
};

// What replaying one dead letter came to.
struct ReplayOutcome {
  enum class Kind { kApplied, kAlreadyApplied, kFailed, kNotFound };
  Kind kind = Kind::kNotFound;
  std::string event_id;
  std::string reason;  // kFailed: why it was refused again
};

// A durable JetStream pull consumer feeding an EventHandler with inbox de-duplication.
class Consumer final {
 public:
  Consumer(ConsumerOptions options, JetStream& nats, pg::Pool& db, EventHandler& handler,
           Metrics* metrics);
  ~Consumer();

  void Start();
  void Stop();
  uint64_t applied() const { return applied_; }
  // True while a batch waits for the database to come back (readiness reports it).
  bool waiting_for_database() const { return waiting_for_database_; }
  // True while the oldest event it has not applied is within a fifth of the
  // stream's max age of being removed by retention.
  bool retention_at_risk() const { return retention_at_risk_; }
  const std::string& name() const { return options_.name; }
  const std::string& stream() const { return options_.stream; }

  // Applies dead letter `id` (one of this consumer's) again, through the inbox
  // and in one transaction with marking it replayed (consumer_replay.cpp).
  // Transient database errors propagate; a refusal is a kFailed outcome.
  ReplayOutcome Replay(int64_t id);

 private:
  // Why a stored dead letter cannot be applied ("" when it can).
  std::string ReplayRefusal(const InboundEvent& ev) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // Applies a loaded dead letter through the inbox; true when it was new.
  bool ReplayApply(pg::Transaction& tx, int64_t id, InboundEvent& ev, ReplayOutcome& outcome)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  struct Delivery;
  struct Fetched;
  bool Stopping() const { return stop_.stop_requested(); }
  void Run(Worker& self, std::stop_token stop);
  // One fetched batch, applied and acked (nothing when the fetch was empty).
  void RunOnce(std::future<Fetched>& prefetched);
  static Fetched FetchBatch(natsSubscription* sub, int batch, std::chrono::milliseconds wait);
  // The batch fetched ahead, else a fresh fetch (binding first if needed).
  Fetched NextFetch(std::future<Fetched>& prefetched);
  // After a failed round: rebinds after a few, sleeps with back-off.
  void BackOff(int failures, const std::exception& e, std::future<Fetched>& prefetched);
  // Messages fetched ahead go back to the server at once.
  void DropPrefetched(std::future<Fetched>& prefetched);
  void EnsureSubscription();
  // Creates this consumer's durable on the stream, or updates its config.
  void AddOrUpdateDurable();
  // Applies a fetched batch: acks what was applied or dead-lettered, offers
  // poison messages again later, and holds the batch while the database is away.
  void ProcessBatch(std::vector<Delivery>& batch);
  // Decodes each message; returns those to commit (undecodable ones only when
  // they are to be dead-lettered now).
  std::vector<Delivery*> Decode(std::vector<Delivery>& batch);
  // Fills d.event's envelope fields from the message's headers and metadata.
  static void ReadEnvelope(Delivery& d);
  // Commits `items` together, or, when that fails for a reason that is not
  // transient, one by one to find the poison ones. Transient errors propagate.
  void ApplyOrIsolate(const std::vector<Delivery*>& items);
  // "" when `some` committed, else why not; transient errors propagate.
  std::string CommitOrReason(const std::vector<Delivery*>& some);
  // Marks `d` for the dead-letter table when its envelope cannot be believed;
  // true when it did.
  bool RejectEnvelope(Delivery& d);
  // Counts a poison attempt: dead-letters at max_deliver, else offers it again later.
  // Returns true when `d` is to be dead-lettered (the caller commits that).
  bool CountPoison(Delivery& d);
  // Sleeps one back-off step while keeping the batch's messages from being
  // redelivered (AckWait) meanwhile.
  void WaitForDatabase(std::vector<Delivery>& batch, int failures,
                       std::chrono::steady_clock::time_point& last_progress);
  // Counts and logs a transient failure of the batch's commit.
  void NoteTransientFailure(const pg::PgError& e, int failures);
  void SetWaitingForDatabase(bool waiting);
  // Both in consumer_retention.cpp; run every housekeeping_interval.
  void Housekeeping();
  void CheckRetention(int64_t max_age_ns, uint64_t first_seq);
  void PruneInbox(int64_t max_age_ns, int64_t duplicates_ns);
  // The commit of a batch (consumer_commit.cpp): the inbox, the handler and
  // the dead letters in one transaction, then the acks.
  void Commit(const std::vector<Delivery*>& items);
  // Records `ids` in the inbox and applies the events that were new; returns
  // how many were.
  size_t ApplyFresh(pg::Transaction& tx, const std::vector<Delivery*>& items,
                    const std::vector<std::string>& ids) ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  void InsertDeadLetters(pg::Transaction& tx, const std::vector<Delivery*>& dead);
  // Acks the committed batch and counts it.
  void Settle(const std::vector<Delivery*>& items, const std::vector<Delivery*>& dead, size_t ids,
              size_t fresh_count);

  ConsumerOptions options_;
  JetStream& nats_;
  pg::Pool& db_;
  // Handlers are called by the consumer's worker and by replays (gRPC threads).
  absl::Mutex apply_mu_;
  EventHandler& handler_ ABSL_GUARDED_BY(apply_mu_);
  Metrics* metrics_;
  // Start and Stop are called by the consumer's owner only.
  std::unique_ptr<Worker> worker_;
  std::atomic<uint64_t> applied_{0};
  std::atomic<bool> waiting_for_database_{false};
  std::atomic<bool> retention_at_risk_{false};
  // The consumer's worker only.
  NatsSubscriptionPtr sub_;
  Worker* self_ = nullptr;
  std::stop_token stop_;
  std::chrono::steady_clock::time_point next_housekeeping_{};
  bool warned_unprunable_ = false;
  // Poison attempts by stream sequence.
  std::unordered_map<uint64_t, int> poison_attempts_;
};

}  // namespace ates::platform
