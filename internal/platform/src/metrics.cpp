#include "ates/platform/metrics.hpp"

#include <prometheus/exposer.h>

namespace ates::platform {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  rpc_count_ = &prometheus::BuildCounter()
                    .Name("ates_grpc_server_handled_total")
                    .Help("gRPC calls completed, by method and status code.")
                    .Register(*registry_);
  rpc_latency_ = &prometheus::BuildHistogram()
                      .Name("ates_grpc_server_handling_seconds")
                      .Help("Time to handle a gRPC call, by method.")
                      .Register(*registry_);
  published_ = &prometheus::BuildCounter()
                    .Name("ates_events_published_total")
                    .Help("Events the outbox relay published and JetStream acknowledged.")
                    .Register(*registry_);
  consumed_ = &prometheus::BuildCounter()
                   .Name("ates_events_consumed_total")
                   .Help("Events applied by a consumer (first delivery of each event id).")
                   .Register(*registry_);
  duplicates_ = &prometheus::BuildCounter()
                     .Name("ates_events_duplicate_total")
                     .Help("Events skipped because the inbox had already seen their id.")
                     .Register(*registry_);
  dead_lettered_ = &prometheus::BuildCounter()
                        .Name("ates_events_dead_lettered_total")
                        .Help("Events parked in the dead-letter table.")
                        .Register(*registry_);
  envelope_rejected_ = &prometheus::BuildCounter()
                            .Name("ates_events_envelope_rejected_total")
                            .Help(
                                "Events dead-lettered unapplied because their subject,"
                                " Ates-Event-Name and Ates-Producer disagreed.")
                            .Register(*registry_);
  consumer_waiting_ =
      &prometheus::BuildGauge()
           .Name("ates_consumer_waiting_for_database")
           .Help("1 while a consumer holds its batch because the database is unavailable.")
           .Register(*registry_);
  consumer_transient_ = &prometheus::BuildCounter()
                             .Name("ates_consumer_transient_failures_total")
                             .Help(
                                 "Batches that failed for a transient reason (database"
                                 " unavailable, timeouts) and were held, not redelivered.")
                             .Register(*registry_);
  consumer_headroom_ = &prometheus::BuildGauge()
                            .Name("ates_consumer_retention_headroom_seconds")
                            .Help(
                                "Seconds before stream retention (max age) removes the"
                                " oldest event the consumer has not applied yet.")
                            .Register(*registry_);
  outbox_lag_ = &prometheus::BuildGauge()
                     .Name("ates_outbox_lag_events")
                     .Help("Outbox rows not yet acknowledged by JetStream.")
                     .Register(*registry_);
  outbox_age_ = &prometheus::BuildGauge()
                     .Name("ates_outbox_oldest_age_seconds")
                     .Help("Age of the oldest unpublished outbox row.")
                     .Register(*registry_);
  relay_leader_ = &prometheus::BuildGauge()
                       .Name("ates_outbox_relay_leader")
                       .Help("1 when this replica's relay holds the publishing lock.")
                       .Register(*registry_);
}

Metrics::~Metrics() = default;

void Metrics::Serve(const std::string& listen) {
  if (listen.empty()) return;
  exposer_ = std::make_unique<prometheus::Exposer>(listen);
  exposer_->RegisterCollectable(registry_);
}

prometheus::Counter& Metrics::RpcCount(const std::string& method, const std::string& code) {
  return rpc_count_->Add({{"method", method}, {"code", code}});
}
prometheus::Histogram& Metrics::RpcLatency(const std::string& method) {
  return rpc_latency_->Add({{"method", method}}, prometheus::Histogram::BucketBoundaries{
                                                     0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05, 0.1, 0.25, 0.5, 1, 2.5});
}
prometheus::Counter& Metrics::EventsPublished(const std::string& stream) {
  return published_->Add({{"stream", stream}});
}
prometheus::Counter& Metrics::EventsConsumed(const std::string& consumer) {
  return consumed_->Add({{"consumer", consumer}});
}
prometheus::Counter& Metrics::EventsDuplicate(const std::string& consumer) {
  return duplicates_->Add({{"consumer", consumer}});
}
prometheus::Counter& Metrics::EventsDeadLettered(const std::string& consumer) {
  return dead_lettered_->Add({{"consumer", consumer}});
}
prometheus::Counter& Metrics::EventsEnvelopeRejected(const std::string& consumer) {
  return envelope_rejected_->Add({{"consumer", consumer}});
}
prometheus::Gauge& Metrics::ConsumerWaitingForDatabase(const std::string& consumer) {
  return consumer_waiting_->Add({{"consumer", consumer}});
}
prometheus::Counter& Metrics::ConsumerTransientFailures(const std::string& consumer) {
  return consumer_transient_->Add({{"consumer", consumer}});
}
prometheus::Gauge& Metrics::ConsumerRetentionHeadroom(const std::string& consumer) {
  return consumer_headroom_->Add({{"consumer", consumer}});
}
prometheus::Gauge& Metrics::OutboxLag() { return outbox_lag_->Add({}); }
prometheus::Gauge& Metrics::OutboxOldestAge() { return outbox_age_->Add({}); }
prometheus::Gauge& Metrics::RelayLeader() { return relay_leader_->Add({}); }

}  // namespace ates::platform
