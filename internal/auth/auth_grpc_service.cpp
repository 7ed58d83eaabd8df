#include "auth_grpc_service.hpp"

#include <google/protobuf/util/time_util.h>

#include "ates/platform/log.hpp"
#include "ates/platform/timestamps.hpp"
#include "client_address.hpp"

namespace ates::auth {
namespace {

void ToProto(const Account& a, v1::Account* out) {
  out->set_id(a.id);
  out->set_login(a.login);
  out->set_full_name(a.full_name);
  out->set_email(a.email);
  out->set_role(static_cast<ates::common::v1::Role>(a.role));
  out->set_active(a.active);
  out->set_version(a.version);
  *out->mutable_created_at() = platform::ToTimestamp(a.created_at);
  *out->mutable_updated_at() = platform::ToTimestamp(a.updated_at);
}

Role FromProto(ates::common::v1::Role role) {
  switch (role) {
    case ates::common::v1::ROLE_ADMIN:
      return Role::kAdmin;
    case ates::common::v1::ROLE_MANAGER:
      return Role::kManager;
    case ates::common::v1::ROLE_ACCOUNTANT:
      return Role::kAccountant;
    case ates::common::v1::ROLE_WORKER:
      return Role::kWorker;
    default:
      return Role::kUnspecified;
  }
}

}  // namespace

AuthGrpcService::AuthGrpcService(AccountService& accounts, std::string client_address_header)
    : accounts_(accounts), client_address_header_(std::move(client_address_header)) {}

platform::ServicePolicy AuthGrpcService::Policy() {
  return platform::ServicePolicy::For<v1::AuthService>()
      .Public("Login")
      .Public("GetPublicKeys")
      .Roles("CreateAccount", {Role::kAdmin})
      .Roles("UpdateAccount", {Role::kAdmin})
      .Authenticated("GetAccount")  // self, or any account for an admin
      .Roles("ListAccounts", {Role::kAdmin})
      .Authenticated("ChangePassword")
      .Roles("ResetPassword", {Role::kAdmin})
      .Roles("RotateSigningKey", {Role::kAdmin});
}

std::string AuthGrpcService::ClientAddress(const grpc::ServerContext& ctx) const {
  if (!client_address_header_.empty()) {
    auto it = ctx.client_metadata().find(client_address_header_);
    if (it != ctx.client_metadata().end()) {
      auto forwarded = AddressFromForwarded(std::string_view(it->second.data(), it->second.size()));
      if (!forwarded.empty()) return forwarded;
    }
  }
  return AddressFromPeer(ctx.peer());
}

grpc::Status AuthGrpcService::Login(grpc::ServerContext* ctx, const v1::LoginRequest* req,
                                    v1::LoginResponse* resp) {
  return platform::Handle(*ctx, [&] {
    auto result = accounts_.Login(req->login(), req->password(), ClientAddress(*ctx));
    resp->set_access_token(result.token);
    *resp->mutable_expires_at() = platform::ToTimestamp(result.expires_at);
    ToProto(result.account, resp->mutable_account());
  });
}

grpc::Status AuthGrpcService::GetPublicKeys(grpc::ServerContext* ctx,
                                            const v1::GetPublicKeysRequest*,
                                            v1::GetPublicKeysResponse* resp) {
  return platform::Handle(*ctx, [&] {
    for (const auto& k : accounts_.keys().Published()) {
      auto* key = resp->add_keys();
      key->set_kid(k.kid);
      key->set_algorithm("EdDSA");
      key->set_public_key(k.public_key);
      *key->mutable_created_at() = platform::ToTimestamp(k.created_at);
    }
    resp->set_issuer(accounts_.settings().issuer);
    resp->set_audience(accounts_.settings().audience);
  });
}

grpc::Status AuthGrpcService::CreateAccount(grpc::ServerContext* ctx,
                                            const v1::CreateAccountRequest* req,
                                            v1::CreateAccountResponse* resp) {
  return platform::Handle(*ctx, [&] {
    NewAccount a;
    a.login = req->login();
    a.full_name = req->full_name();
    a.email = req->email();
    a.role = FromProto(req->role());
    a.password = req->password();
    ToProto(accounts_.Create(a), resp->mutable_account());
  });
}

grpc::Status AuthGrpcService::UpdateAccount(grpc::ServerContext* ctx,
                                            const v1::UpdateAccountRequest* req,
                                            v1::UpdateAccountResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    AccountPatch p;
    p.account_id = req->account_id();
    if (req->has_role()) p.role = FromProto(req->role());
    if (req->has_email()) p.email = req->email();
    if (req->has_full_name()) p.full_name = req->full_name();
    if (req->has_active()) p.active = req->active();
    ToProto(accounts_.Update(p, who.account_id), resp->mutable_account());
  });
}

grpc::Status AuthGrpcService::GetAccount(grpc::ServerContext* ctx, const v1::GetAccountRequest* req,
                                         v1::GetAccountResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    std::string id = req->account_id().empty() ? who.account_id : req->account_id();
    if (id != who.account_id && who.role != Role::kAdmin) {
      throw Error(ErrorCode::kPermissionDenied, "only an admin may read another account");
    }
    ToProto(accounts_.Get(id), resp->mutable_account());
  });
}

grpc::Status AuthGrpcService::ListAccounts(grpc::ServerContext* ctx,
                                           const v1::ListAccountsRequest* req,
                                           v1::ListAccountsResponse* resp) {
  return platform::Handle(*ctx, [&] {
    auto page = accounts_.List(req->page_size(), req->page_token());
    for (const auto& a : page.accounts) ToProto(a, resp->add_accounts());
    resp->set_next_page_token(page.next_page_token);
  });
}

grpc::Status AuthGrpcService::ChangePassword(grpc::ServerContext* ctx,
                                             const v1::ChangePasswordRequest* req,
                                             v1::ChangePasswordResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    auto fresh = accounts_.ChangePassword(who.account_id, req->old_password(), req->new_password());
    resp->set_access_token(fresh.token);
    *resp->mutable_expires_at() = platform::ToTimestamp(fresh.expires_at);
  });
}

grpc::Status AuthGrpcService::ResetPassword(grpc::ServerContext* ctx,
                                            const v1::ResetPasswordRequest* req,
                                            v1::ResetPasswordResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    auto account = accounts_.ResetPassword(who.account_id, req->account_id(), req->login(),
                                           req->new_password());
    ToProto(account, resp->mutable_account());
  });
}

grpc::Status AuthGrpcService::RotateSigningKey(grpc::ServerContext* ctx,
                                               const v1::RotateSigningKeyRequest*,
                                               v1::RotateSigningKeyResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    auto rotation = accounts_.keys().Rotate();
    resp->set_kid(rotation.kid);
    *resp->mutable_created_at() = platform::ToTimestamp(rotation.created_at);
    for (const auto& kid : rotation.retired_kids) resp->add_retired_kids(kid);
    *resp->mutable_retired_until() = platform::ToTimestamp(rotation.retired_until);
    log::Info("signing key rotated by an admin",
              {{"kid", rotation.kid}, {"admin_id", who.account_id}});
  });
}

}  // namespace ates::auth
