#include "ates/platform/trace_interceptor.hpp"

#include <optional>
#include <string_view>
#include <thread>

#include "ates/platform/trace_context.hpp"

namespace ates::platform {
namespace {

using grpc::experimental::InterceptionHookPoints;

std::string_view TraceparentOf(const std::multimap<grpc::string_ref, grpc::string_ref>* metadata) {
  if (metadata == nullptr) return {};
  auto it = metadata->find(trace::kTraceparentHeader);
  if (it == metadata->end()) return {};
  return {it->second.data(), it->second.size()};
}

// The synchronous server runs the receive hooks, the handler and the status
// hook on one thread: the context is current from the first to the last.
class TraceInterceptor final : public grpc::experimental::Interceptor {
 public:
  // A call that ended without a status hook leaves nothing behind either.
  ~TraceInterceptor() override { End(); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      Begin(TraceparentOf(methods->GetRecvInitialMetadata()));
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA) &&
        context_) {
      methods->GetSendInitialMetadata()->emplace(trace::kTraceparentHeader,
                                                 context_->Traceparent());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) End();
    methods->Proceed();
  }

 private:
  void Begin(std::string_view traceparent) {
    context_ = trace::ContinueOrStart(traceparent);
    thread_ = std::this_thread::get_id();
    previous_ = trace::Exchange(context_);
    current_set_ = true;
  }

  // Restores the thread's context, on the thread that set it only.
  void End() {
    if (!current_set_ || thread_ != std::this_thread::get_id()) return;
    trace::Exchange(std::move(previous_));
    current_set_ = false;
  }

  std::optional<trace::TraceContext> context_;
  std::optional<trace::TraceContext> previous_;
  std::thread::id thread_;
  bool current_set_ = false;
};

class TraceFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* /*info*/) override {
    return new TraceInterceptor();
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> TraceInterceptorFactory() {
  return std::make_unique<TraceFactory>();
}

}  // namespace ates::platform
