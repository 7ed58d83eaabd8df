#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
class Exposer;
}

namespace ates::platform {

// The grpc_service and grpc_method labels of an RPC.
struct RpcName {
  std::string service;  // "ates.tasks.v1.TaskService"
  std::string method;   // "CreateTask"
};
// "/ates.tasks.v1.TaskService/CreateTask" -> {"ates.tasks.v1.TaskService", "CreateTask"};
// a path of any other shape -> {"unknown", the path as it is}.
RpcName SplitRpcMethod(std::string_view full_method);

// Prometheus metrics of one daemon, served as text on the admin port.
// Names follow the `ates_` prefix, base units and `_total` on counters.
class Metrics final {
 public:
  Metrics();
  ~Metrics();

  // Starts the HTTP endpoint (/metrics) on host:port; "" disables it.
  void Serve(const std::string& listen);
  // Stops serving /metrics: before anything a collectable reads goes away.
  void StopServing();
  // Served beside the registry: metrics read at scrape time (scrape_metrics.hpp).
  void AddCollectable(std::shared_ptr<prometheus::Collectable> collectable);

  prometheus::Registry& registry() { return *registry_; }

  // grpc_server_handled_total / grpc_server_handling_seconds of gRPC's
  // "/package.Service/Method" (see SplitRpcMethod); `code` as RpcCodeName gives it.
  prometheus::Counter& RpcCount(const std::string& full_method, const std::string& code);
  prometheus::Histogram& RpcLatency(const std::string& full_method);
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
  // JetStream's num_pending (not yet delivered) and num_ack_pending of a
  // consumer (consumer_gauges.cpp refreshes them).
  prometheus::Gauge& ConsumerPending(const std::string& consumer);
  prometheus::Gauge& ConsumerAckPending(const std::string& consumer);
  // Dead-letter rows of a consumer not replayed yet.
  prometheus::Gauge& DeadLetters(const std::string& consumer);
  prometheus::Gauge& OutboxLag();        // unpublished rows
  prometheus::Gauge& OutboxOldestAge();  // seconds
  prometheus::Gauge& RelayLeader();      // 1 when this replica publishes

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
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
  prometheus::Family<prometheus::Gauge>* consumer_pending_;
  prometheus::Family<prometheus::Gauge>* consumer_ack_pending_;
  prometheus::Family<prometheus::Gauge>* dead_letters_;
  prometheus::Family<prometheus::Gauge>* outbox_lag_;
  prometheus::Family<prometheus::Gauge>* outbox_age_;
  prometheus::Family<prometheus::Gauge>* relay_leader_;
};

}  // namespace ates::platform
