// Stopping the gRPC server without waiting on idle client connections.
#include "ates/platform/server_stop.hpp"

#include <grpc/grpc.h>

#include <thread>

namespace ates::platform {

class CallCounter final : public grpc::experimental::Interceptor {
 public:
  explicit CallCounter(CallsInFlight& calls) : calls_(calls) {
    calls_.count_.fetch_add(1, std::memory_order_acq_rel);
  }
  ~CallCounter() override { calls_.count_.fetch_sub(1, std::memory_order_acq_rel); }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  CallsInFlight& calls_;
};

namespace {

class CallCounterFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallCounterFactory(CallsInFlight& calls) : calls_(calls) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* /*info*/) override {
    return new CallCounter(calls_);
  }

 private:
  CallsInFlight& calls_;
};

constexpr std::chrono::milliseconds kPoll{20};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
CallsInFlight::InterceptorFactory() {
  return std::make_unique<CallCounterFactory>(*this);
}

void StopServer(grpc::Server& server, const CallsInFlight& calls, std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  std::atomic<bool> stopped{false};
  // Shutdown (below) refuses new calls at once; this thread waits for the
  // calls in flight to end, then closes what is left: idle connections.
  std::thread closer([&] {
    std::this_thread::sleep_for(kPoll);  // Shutdown has begun by then
    while (!stopped.load() && std::chrono::steady_clock::now() < deadline) {
      if (calls.count() == 0) {
        grpc_server_cancel_all_calls(server.c_server());  // cancels none: there are none
        return;
      }
      std::this_thread::sleep_for(kPoll);
    }
  });
  server.Shutdown(std::chrono::system_clock::now() + grace);
  stopped.store(true);
  closer.join();
}

}  // namespace ates::platform
