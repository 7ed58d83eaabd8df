#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ates/platform/tls_channel.hpp"

namespace ates::gateway {

// One upstream call: the serialized request, the caller's token and deadline.
struct UpstreamCall {
  std::string method_path;    // "/ates.tasks.v1.TaskService/CreateTask"
  std::string request;        // binary protobuf
  std::string authorization;  // "Bearer <token>", or "" for none
  std::string traceparent;    // the caller's valid W3C traceparent, or "" (the daemon starts one)
  std::chrono::system_clock::time_point deadline;
};

// The reply: the gRPC status (with its details) and, on OK, the binary response.
struct UpstreamReply {
  grpc::Status status;
  std::string response;
  std::string traceparent;  // the daemon's span of the call (its initial metadata), or ""
};

// A channel and generic stub per public daemon, in MethodRoutes::ServiceNames()
// order; calls carry bytes, so any method of the daemon passes through.
class Upstreams final {
 public:
  Upstreams(const std::vector<std::string>& targets, const platform::ClientTls& tls);

  // Blocks until the upstream answers or the deadline passes.
  UpstreamReply Call(size_t upstream, const UpstreamCall& call);

 private:
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
};

}  // namespace ates::gateway
