#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace ates::platform {

// Continues the caller's W3C trace (`traceparent` metadata) or starts one, with
// a new span per call; makes it current on the handler's thread for the call
// (so its log lines carry the trace id) and echoes `traceparent` back in the
// initial metadata.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> TraceInterceptorFactory();

}  // namespace ates::platform
