#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace prometheus {
class Exposer;
}

namespace ates::platform {

// Prometheus metrics of one daemon, served as text on the admin port.
// Names follow the `ates_` prefix, base units and `_total` on counters.
class Metrics final {
 public:
  Metrics();
  ~Metrics();

  // Starts the HTTP endpoint (/metrics) on host:port; "" disables it.
  void Serve(const std::string& listen);

  prometheus::Registry& registry() { return *registry_; }

  prometheus::Counter& RpcCount(const std::string& method, const std::string& code);
  prometheus::Histogram& RpcLatency(const std::string& method);
  prometheus::Counter& EventsPublished(const std::string& stream);
  prometheus::Counter& EventsConsumed(const std::string& consumer);
  prometheus::Counter& EventsDuplicate(const std::string& consumer);
  prometheus::Counter& EventsDeadLettered(const std::string& consumer);
  // Dead-lettered because subject, event name and producer disagreed (ADR 15).
  prometheus::Counter& EventsEnvelopeRejected(const std::string& consumer);
  // 1 while the consumer holds a batch because the database is unavailable.
  prometheus::Gauge& ConsumerWaitingForDatabase(const std::string& consumer);
  prometheus::Counter& ConsumerTransientFailures(const std::string& consumer);
  // Seconds before stream retention removes the oldest event not yet applied.
  prometheus::Gauge& ConsumerRetentionHeadroom(const std::string& consumer);
  prometheus::Gauge& OutboxLag();        // unpublished rows
  prometheus::Gauge& OutboxOldestAge();  // seconds
  prometheus::Gauge& RelayLeader();      // 1 when this replica publishes

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  prometheus::Family<prometheus::Counter>* rpc_count_;
  prometheus::Family<prometheus::Histogram>* rpc_latency_;
  prometheus::Family<prometheus::Counter>* published_;
  prometheus::Family<prometheus::Counter>* consumed_;
  prometheus::Family<prometheus::Counter>* duplicates_;
  prometheus::Family<prometheus::Counter>* dead_lettered_;
  prometheus::Family<prometheus::Counter>* envelope_rejected_;
  prometheus::Family<prometheus::Gauge>* consumer_waiting_;
  prometheus::Family<prometheus::Counter>* consumer_transient_;
  prometheus::Family<prometheus::Gauge>* consumer_headroom_;
  prometheus::Family<prometheus::Gauge>* outbox_lag_;
  prometheus::Family<prometheus::Gauge>* outbox_age_;
  prometheus::Family<prometheus::Gauge>* relay_leader_;
};

}  // namespace ates::platform
