#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "ates/platform/authenticator.hpp"
#include "ates/platform/policy.hpp"
#include "ates/platform/token.hpp"

namespace ates::platform {

// The door of every daemon. A server interceptor that, before a handler
// runs, authenticates the caller and checks the method against the policy
// table (POST_RECV_INITIAL_METADATA), then checks every string of the request
// for NUL bytes and UTF-8 (POST_RECV_MESSAGE). A C++ interceptor cannot fail
// a call by itself, so it records the decision for the call's ServerContext:
// Handle() returns the recorded error or hands the principal to the body. A
// request that does not even parse (gRPC would answer INTERNAL) is answered
// INVALID_ARGUMENT.
class CallAdmission final {
 public:
  CallAdmission(const PolicyTable& policies, const Authenticator& authenticator)
      : policies_(policies), authenticator_(authenticator) {}

  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> InterceptorFactory();

 private:
  const PolicyTable& policies_;
  const Authenticator& authenticator_;
};

// The principal admitted for this call (empty for a public method). Throws the
// recorded refusal; PERMISSION_DENIED when the call was never admitted (no
// CallAdmission on this server, or no decision for it).
auth::Principal AdmittedPrincipal(const grpc::ServerContext& ctx);

// Admits `ctx` as `who` for its lifetime, as the interceptor would: for unit
// tests that call Handle() on a bare ServerContext, with no server.
class AdmitCallForTest final {
 public:
  explicit AdmitCallForTest(const grpc::ServerContext& ctx, auth::Principal who = {});
  ~AdmitCallForTest();
  AdmitCallForTest(const AdmitCallForTest&) = delete;
  AdmitCallForTest& operator=(const AdmitCallForTest&) = delete;

 private:
  const void* call_;
};

}  // namespace ates::platform
