#include "gateway_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

namespace ates::gateway {

GatewayMetrics::GatewayMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("ates_http_requests_total")
                    .Help("HTTP requests served by the gateway, by path and Connect code")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("ates_http_request_duration_seconds")
                   .Help("Time from request headers to the last byte written, by path")
                   .Register(registry)) {}

void GatewayMetrics::Observe(const std::string& path, const std::string& code,
                             std::chrono::steady_clock::duration took) {
  requests_.Add({{"path", path}, {"code", code}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  latency_.Add({{"path", path}}, kBuckets).Observe(std::chrono::duration<double>(took).count());
}

}  // namespace ates::gateway
