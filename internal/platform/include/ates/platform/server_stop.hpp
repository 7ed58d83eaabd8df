#pragma once

#include <grpcpp/server.h>
#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <chrono>
#include <memory>

namespace ates::platform {

// The server's calls in flight, counted by an interceptor from the call's
// start to its end (every call, whatever its service or outcome).
class CallsInFlight final {
 public:
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> InterceptorFactory();
  int count() const { return count_.load(std::memory_order_acquire); }

 private:
  friend class CallCounter;
  std::atomic<int> count_{0};
};

// Stops `server`: no new calls, the calls in flight get up to `grace` to
// finish, and then it returns. grpc::Server::Shutdown alone also waits, up to
// its deadline, for every client connection to close; a gRPC client keeps an
// idle connection open after the server's GOAWAY, so one idle client (a
// gateway, a health checker) made every stop take the whole grace (ADR 32).
// Once no call is in flight, the idle connections are closed at once.
void StopServer(grpc::Server& server, const CallsInFlight& calls, std::chrono::milliseconds grace);

}  // namespace ates::platform
