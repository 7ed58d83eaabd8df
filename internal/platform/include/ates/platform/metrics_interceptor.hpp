#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "ates/platform/metrics.hpp"

namespace ates::platform {

// Counts every RPC by method and status code and observes its latency
// (grpc_server_handled_total, grpc_server_handling_seconds in Metrics).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MetricsInterceptorFactory(
    Metrics& metrics);

}  // namespace ates::platform
