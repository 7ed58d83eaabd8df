#include "ates/platform/metrics.hpp"

#include <prometheus/exposer.h>

namespace ates::platform {

namespace {

template <class Builder>
auto& Registered(Builder builder, prometheus::Registry& registry, const char* name,
                 const char* help) {
  return builder.Name(name).Help(help).Register(registry);
}
prometheus::Family<prometheus::Counter>& CounterFamily(prometheus::Registry& r, const char* name,
                                                       const char* help) {
  return Registered(prometheus::BuildCounter(), r, name, help);
}
prometheus::Family<prometheus::Gauge>& GaugeFamily(prometheus::Registry& r, const char* name,
                                                   const char* help) {
  return Registered(prometheus::BuildGauge(), r, name, help);
}
prometheus::Family<prometheus::Histogram>& HistogramFamily(prometheus::Registry& r,
                                                           const char* name, const char* help) {
  return Registered(prometheus::BuildHistogram(), r, name, help);
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  // go-grpc-prometheus names and labels, so stock gRPC dashboards and alerts work.
  rpc_count_ = &CounterFamily(*registry_, "grpc_server_handled_total",
                              "Total number of RPCs completed on the server, regardless of"
                              " success or failure.");
  rpc_latency_ = &HistogramFamily(*registry_, "grpc_server_handling_seconds",
                                  "Histogram of response latency (seconds) of gRPC that had"
                                  " been application-level handled by the server.");
  published_ = &CounterFamily(*registry_, "ates_events_published_total",
                              "Events the outbox relay published and JetStream acknowledged.");
  consumed_ = &CounterFamily(*registry_, "ates_events_consumed_total",
                             "Events applied by a consumer (first delivery of each event id).");
  duplicates_ = &CounterFamily(*registry_, "ates_events_duplicate_total",
                               "Events skipped because the inbox had already seen their id.");
  dead_lettered_ = &CounterFamily(*registry_, "ates_events_dead_lettered_total",
                                  "Events parked in the dead-letter table.");
  envelope_rejected_ = &CounterFamily(*registry_, "ates_events_envelope_rejected_total",
                                      "Events dead-lettered unapplied because their subject,"
                                      " Ates-Event-Name and Ates-Producer disagreed.");
  consumer_waiting_ =
      &GaugeFamily(*registry_, "ates_consumer_waiting_for_database",
                   "1 while a consumer holds its batch because the database is unavailable.");
  consumer_transient_ = &CounterFamily(*registry_, "ates_consumer_transient_failures_total",
                                       "Batches that failed for a transient reason (database"
                                       " unavailable, timeouts) and were held, not redelivered.");
  consumer_headroom_ = &GaugeFamily(*registry_, "ates_consumer_retention_headroom_seconds",
                                    "Seconds before stream retention (max age) removes the"
                                    " oldest event the consumer has not applied yet.");
  consumer_pending_ = &GaugeFamily(*registry_, "ates_consumer_pending_messages",
                                   "Messages of the consumer's stream not yet delivered to it"
                                   " (JetStream num_pending).");
  consumer_ack_pending_ = &GaugeFamily(*registry_, "ates_consumer_ack_pending_messages",
                                       "Messages delivered to the consumer and not yet"
                                       " acknowledged (JetStream num_ack_pending).");
  dead_letters_ = &GaugeFamily(*registry_, "ates_dead_letters",
                               "Dead-letter rows of the consumer not replayed yet.");
  outbox_lag_ = &GaugeFamily(*registry_, "ates_outbox_lag_events",
                             "Outbox rows not yet acknowledged by JetStream.");
  outbox_age_ = &GaugeFamily(*registry_, "ates_outbox_oldest_age_seconds",
                             "Age of the oldest unpublished outbox row.");
  relay_leader_ = &GaugeFamily(*registry_, "ates_outbox_relay_leader",
                               "1 when this replica's relay holds the publishing lock.");
}

Metrics::~Metrics() = default;

void Metrics::Serve(const std::string& listen) {
  if (listen.empty()) return;
  exposer_ = std::make_unique<prometheus::Exposer>(listen);
  exposer_->RegisterCollectable(registry_);
  for (const auto& c : collectables_) exposer_->RegisterCollectable(c);
}

void Metrics::StopServing() { exposer_.reset(); }

void Metrics::AddCollectable(std::shared_ptr<prometheus::Collectable> collectable) {
  if (exposer_) exposer_->RegisterCollectable(collectable);
  collectables_.push_back(std::move(collectable));
}

prometheus::Counter& Metrics::RpcCount(const std::string& full_method, const std::string& code) {
  auto name = SplitRpcMethod(full_method);
  return rpc_count_->Add({{"grpc_type", "unary"},
                          {"grpc_service", name.service},
                          {"grpc_method", name.method},
                          {"grpc_code", code}});
}
prometheus::Histogram& Metrics::RpcLatency(const std::string& full_method) {
  auto name = SplitRpcMethod(full_method);
  return rpc_latency_->Add(
      {{"grpc_type", "unary"}, {"grpc_service", name.service}, {"grpc_method", name.method}},
      prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25, 0.5, 1, 2.5});
}

RpcName SplitRpcMethod(std::string_view full_method) {
  // gRPC's ":path" is "/package.Service/Method"; anything else is kept whole as the method.
  if (full_method.size() > 1 && full_method.front() == '/') {
    auto slash = full_method.find('/', 1);
    if (slash != std::string_view::npos && slash > 1 && slash + 1 < full_method.size() &&
        full_method.find('/', slash + 1) == std::string_view::npos) {
      return {std::string(full_method.substr(1, slash - 1)),
              std::string(full_method.substr(slash + 1))};
    }
  }
  return {"unknown", std::string(full_method)};
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
prometheus::Gauge& Metrics::ConsumerPending(const std::string& consumer) {
  return consumer_pending_->Add({{"consumer", consumer}});
}
prometheus::Gauge& Metrics::ConsumerAckPending(const std::string& consumer) {
  return consumer_ack_pending_->Add({{"consumer", consumer}});
}
prometheus::Gauge& Metrics::DeadLetters(const std::string& consumer) {
  return dead_letters_->Add({{"consumer", consumer}});
}
prometheus::Gauge& Metrics::OutboxLag() { return outbox_lag_->Add({}); }
prometheus::Gauge& Metrics::OutboxOldestAge() { return outbox_age_->Add({}); }
prometheus::Gauge& Metrics::RelayLeader() { return relay_leader_->Add({}); }

}  // namespace ates::platform
