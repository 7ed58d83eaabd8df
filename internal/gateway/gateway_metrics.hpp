#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <string>

namespace ates::gateway {

// ates_http_requests_total{path,code} and ates_http_request_duration_seconds{path}:
// `path` is a method's Connect path, "/session/logout", "static" or "other";
// `code` the Connect code, or the HTTP status of a static answer.
class GatewayMetrics final {
 public:
  explicit GatewayMetrics(prometheus::Registry& registry);

  void Observe(const std::string& path, const std::string& code,
               std::chrono::steady_clock::duration took);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

}  // namespace ates::gateway
