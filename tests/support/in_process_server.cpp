#include "support/in_process_server.hpp"

#include <chrono>
#include <stdexcept>

namespace ates::test {

InProcessServer::InProcessServer() : key_(auth::SigningKey::Generate("in-process")) {
  verifier_.SetKeys({{key_.kid, key_.public_key}});
  builder_.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
}

InProcessServer::~InProcessServer() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

void InProcessServer::Add(grpc::Service& service, const platform::ServicePolicy& policy) {
  table_.Add(policy);
  builder_.RegisterService(&service);
}

void InProcessServer::Start() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(admission_.InterceptorFactory());
  builder_.experimental().SetInterceptorCreators(std::move(factories));
  server_ = builder_.BuildAndStart();
  if (!server_ || port_ == 0) throw std::runtime_error("in-process gRPC server did not start");
  channel_ =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials());
}

std::string InProcessServer::Token(const std::string& account_id, auth::Role role,
                                   int64_t version) const {
  auth::TokenClaims claims;
  claims.issuer = verifier_.issuer();
  claims.audience = verifier_.audience();
  claims.subject = account_id;
  claims.role = role;
  claims.account_version = version;
  claims.issued_at = std::chrono::system_clock::now();
  claims.expires_at = claims.issued_at + std::chrono::hours(1);
  return "Bearer " + auth::SignToken(key_, claims);
}

}  // namespace ates::test
