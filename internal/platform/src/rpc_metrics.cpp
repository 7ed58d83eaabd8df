#include "ates/platform/rpc_metrics.hpp"

namespace ates::platform {

const char* RpcCodeName(int code) {
  // As gRPC-Go (and so go-grpc-prometheus) prints codes.
  static const char* kNames[] = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  return (code >= 0 && code <= 16) ? kNames[code] : "Unknown";
}

MethodMetrics::MethodMetrics(Metrics& metrics, std::string method)
    : metrics_(metrics), method_(std::move(method)), latency_(&metrics_.RpcLatency(method_)) {}

prometheus::Counter& MethodMetrics::Count(int code) {
  if (code < 0 || code >= kCodes) code = 2;  // UNKNOWN
  auto& slot = counts_[static_cast<size_t>(code)];
  if (auto* counter = slot.load(std::memory_order_acquire)) return *counter;
  // Two threads may both look it up: Family::Add returns the same counter.
  auto* counter = &metrics_.RpcCount(method_, RpcCodeName(code));
  slot.store(counter, std::memory_order_release);
  return *counter;
}

MethodMetrics* RpcMetricsCache::Find(std::string_view method) {
  {
    absl::ReaderMutexLock lock(&mu_);
    if (auto it = by_method_.find(method); it != by_method_.end()) return it->second.get();
  }
  absl::MutexLock lock(&mu_);
  if (auto it = by_method_.find(method); it != by_method_.end()) return it->second.get();
  if (by_method_.size() >= max_methods_) return nullptr;
  std::string name(method);
  auto entry = std::make_unique<MethodMetrics>(metrics_, name);
  return by_method_.emplace(std::move(name), std::move(entry)).first->second.get();
}

size_t RpcMetricsCache::size() const {
  absl::ReaderMutexLock lock(&mu_);
  return by_method_.size();
}

}  // namespace ates::platform
