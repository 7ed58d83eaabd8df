#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ates/platform/pg.hpp"

namespace google::protobuf {
class Message;
}
typedef struct __natsSubscription natsSubscription;

namespace ates::platform {

class JetStream;
class Metrics;

// A decoded event as a handler sees it.
struct InboundEvent {
  std::string id;  // Nats-Msg-Id
  std::string name;
  int version = 0;
  std::string subject;
  std::string occurred_at;  // RFC 3339 from Ates-Occurred-At
  std::string correlation_id;
  uint64_t stream_seq = 0;
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
  int max_deliver = 5;  // attempts before a poison message is dead-lettered
  std::vector<std::chrono::milliseconds> backoff{std::chrono::milliseconds(200),
                                                 std::chrono::seconds(1), std::chrono::seconds(5)};
  // Test hook: runs after a batch committed and before it is acked.
  std::function<void()> after_commit;
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

 private:
  struct Delivery;
  void Run();
  void EnsureSubscription();
  void ProcessBatch(std::vector<Delivery>& batch);
  void Commit(std::vector<Delivery*>& items);

  ConsumerOptions options_;
  JetStream& nats_;
  pg::Pool& db_;
  EventHandler& handler_;
  Metrics* metrics_;
  natsSubscription* sub_ = nullptr;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> applied_{0};
};

}  // namespace ates::platform
