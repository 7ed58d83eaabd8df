#pragma once
// An in-process fixture for adapter tests: gRPC services served in the test's
// own process behind the same CallAdmission as a daemon (policy table, token
// verification, input check), on a loopback port, with a signing key whose
// tokens it verifies. An adapter is tested as a daemon serves it, without
// starting the daemon: no config, migrations run by the test, no NATS.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "ates/platform/authenticator.hpp"
#include "ates/platform/call_admission.hpp"
#include "ates/platform/policy.hpp"
#include "ates/platform/token.hpp"

namespace ates::test {

class InProcessServer final {
 public:
  InProcessServer();
  ~InProcessServer();

  // Serves `service` under `policy` (ServicePolicy::For<...>, or the
  // adapter's own Policy()). Call before Start().
  void Add(grpc::Service& service, const platform::ServicePolicy& policy);
  // Serves `service` with no policy entry for any of its methods (a test that
  // every such call is denied).
  void AddWithoutPolicy(grpc::Service& service) { builder_.RegisterService(&service); }
  void Start();
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  // A bearer token ("Bearer ...") the server accepts for `account_id` as `role`.
  std::string Token(const std::string& account_id, auth::Role role, int64_t version = 0) const;

 private:
  auth::SigningKey key_;
  auth::TokenVerifier verifier_{"ates-auth", "ates"};
  platform::Authenticator authenticator_{verifier_};
  platform::PolicyTable table_;
  platform::CallAdmission admission_{table_, authenticator_};
  grpc::ServerBuilder builder_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  int port_ = 0;
};

}  // namespace ates::test
