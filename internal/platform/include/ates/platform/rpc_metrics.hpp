#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ates/platform/metrics.hpp"

namespace ates::platform {

// The RPC metrics of one method, looked up once: Family::Add builds a label
// map, hashes it and takes the family's lock, which on every call cost a
// visible share of a small RPC. The latency histogram is found up front, the
// counter of each status code on its first use; both then live as long as
// the Metrics (a family never drops them).
class MethodMetrics final {
 public:
  MethodMetrics(Metrics& metrics, std::string method);
  // The grpc_server_handled_total counter of `code` (0..16; any other as Unknown).
  prometheus::Counter& Count(int code);
  prometheus::Histogram& Latency() { return *latency_; }

 private:
  static constexpr int kCodes = 17;
  Metrics& metrics_;
  std::string method_;
  prometheus::Histogram* latency_;
  std::array<std::atomic<prometheus::Counter*>, kCodes> counts_{};
};

// MethodMetrics by method name, for the metrics interceptor. Bounded: a
// client may send any method name, so past `max_methods` names Find returns
// nullptr and the caller takes the slow path (Metrics::RpcCount/RpcLatency).
class RpcMetricsCache final {
 public:
  explicit RpcMetricsCache(Metrics& metrics, size_t max_methods = 1024)
      : metrics_(metrics), max_methods_(max_methods) {}
  MethodMetrics* Find(std::string_view method);
  size_t size() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  Metrics& metrics_;
  const size_t max_methods_;
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<MethodMetrics>, Hash, std::equal_to<>> by_method_
      ABSL_GUARDED_BY(mu_);
};

// The status code name used as the grpc_code label, as gRPC-Go prints it
// ("OK", "Canceled", "NotFound", "InvalidArgument", ...).
const char* RpcCodeName(int code);

}  // namespace ates::platform
