#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <vector>

#include "ates/platform/worker.hpp"

namespace ates::pg {
class Pool;
}

namespace ates::platform {

class Consumer;
class JetStream;
class Metrics;

// The backlog gauges of a daemon's consumers, each refreshed by a worker of its
// own, never on the message path: a NATS or database outage leaves the last
// values in place and is retried on the next round.
class ConsumerGauges final {
 public:
  ConsumerGauges(std::vector<const Consumer*> consumers, JetStream& nats, pg::Pool& db,
                 Metrics& metrics);

  // ates_consumer_pending_messages / ates_consumer_ack_pending_messages from
  // JetStream's consumer info, every `interval` until stopped.
  void RefreshPending(Worker& worker, std::chrono::milliseconds interval);
  // ates_dead_letters from the dead_letters table, every `interval` until stopped.
  void RefreshDeadLetters(Worker& worker, std::chrono::milliseconds interval);

  // One round of each (public for tests).
  void ReadPending();
  void ReadDeadLetters();

 private:
  std::vector<const Consumer*> consumers_;
  JetStream& nats_;
  pg::Pool& db_;
  Metrics& metrics_;
};

}  // namespace ates::platform
