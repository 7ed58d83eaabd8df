#pragma once

#include "accounts.hpp"
#include "ates/auth/v1/auth_service.grpc.pb.h"
#include "ates/platform/rpc_status.hpp"

namespace ates::auth {

// gRPC face of AccountService: converts proto <-> domain and checks roles.
class AuthGrpcService final : public ates::auth::v1::AuthService::Service {
 public:
  static constexpr const char* kName = "ates.auth.v1.AuthService";

  // `client_address_header`: metadata a trusted proxy sets to the client's
  // address (X-Forwarded-For style); empty: the connection's peer address.
  explicit AuthGrpcService(AccountService& accounts, std::string client_address_header = "");
  // Who may call each method (the platform enforces it before the handler runs).
  static platform::ServicePolicy Policy();

  grpc::Status Login(grpc::ServerContext* ctx, const v1::LoginRequest* req,
                     v1::LoginResponse* resp) override;
  grpc::Status GetPublicKeys(grpc::ServerContext* ctx, const v1::GetPublicKeysRequest* req,
                             v1::GetPublicKeysResponse* resp) override;
  grpc::Status CreateAccount(grpc::ServerContext* ctx, const v1::CreateAccountRequest* req,
                             v1::CreateAccountResponse* resp) override;
  grpc::Status UpdateAccount(grpc::ServerContext* ctx, const v1::UpdateAccountRequest* req,
                             v1::UpdateAccountResponse* resp) override;
  grpc::Status GetAccount(grpc::ServerContext* ctx, const v1::GetAccountRequest* req,
                          v1::GetAccountResponse* resp) override;
  grpc::Status ListAccounts(grpc::ServerContext* ctx, const v1::ListAccountsRequest* req,
                            v1::ListAccountsResponse* resp) override;
  grpc::Status ChangePassword(grpc::ServerContext* ctx, const v1::ChangePasswordRequest* req,
                              v1::ChangePasswordResponse* resp) override;
  grpc::Status ResetPassword(grpc::ServerContext* ctx, const v1::ResetPasswordRequest* req,
                             v1::ResetPasswordResponse* resp) override;
  grpc::Status RotateSigningKey(grpc::ServerContext* ctx, const v1::RotateSigningKeyRequest* req,
                                v1::RotateSigningKeyResponse* resp) override;

 private:
  std::string ClientAddress(const grpc::ServerContext& ctx) const;

  AccountService& accounts_;
  std::string client_address_header_;
};

}  // namespace ates::auth
