#include "ates/platform/metrics_interceptor.hpp"

#include <chrono>
#include <string>

#include "ates/platform/rpc_metrics.hpp"

namespace ates::platform {
namespace {

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  // `cached` is null when the cache is full (a flood of unknown method names).
  MetricsInterceptor(Metrics& metrics, MethodMetrics* cached, const char* method)
      : metrics_(metrics),
        cached_(cached),
        method_(method),
        start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const int code = static_cast<int>(methods->GetSendStatus().error_code());
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      if (cached_ != nullptr) {
        cached_->Count(code).Increment();
        cached_->Latency().Observe(seconds);
      } else {
        metrics_.RpcCount(method_, RpcCodeName(code)).Increment();
        metrics_.RpcLatency(method_).Observe(seconds);
      }
    }
    methods->Proceed();
  }

 private:
  Metrics& metrics_;
  MethodMetrics* cached_;
  const char* method_;  // gRPC's, valid for the call
  std::chrono::steady_clock::time_point start_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(Metrics& metrics) : metrics_(metrics), cache_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const char* method = info->method() ? info->method() : "";
    return new MetricsInterceptor(metrics_, cache_.Find(method), method);
  }

 private:
  Metrics& metrics_;
  RpcMetricsCache cache_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MetricsInterceptorFactory(
    Metrics& metrics) {
  return std::make_unique<Factory>(metrics);
}

}  // namespace ates::platform
