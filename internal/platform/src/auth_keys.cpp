#include "ates/platform/auth_keys.hpp"

#include <cstring>
#include <stdexcept>

#include "ates/auth/v1/auth_service.grpc.pb.h"

namespace ates::platform {

std::function<auth::TokenVerifier::PublicKeys()> RemoteKeyLoader(std::string target,
                                                                 ClientTls tls) {
  return [target = std::move(target), tls = std::move(tls)] {
    auto stub = ates::auth::v1::AuthService::NewStub(CreateClientChannel(target, tls));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    ates::auth::v1::GetPublicKeysRequest req;
    ates::auth::v1::GetPublicKeysResponse resp;
    auto status = stub->GetPublicKeys(&ctx, req, &resp);
    if (!status.ok()) {
      throw std::runtime_error("GetPublicKeys from " + target + ": " + status.error_message());
    }
    auth::TokenVerifier::PublicKeys keys;
    for (const auto& k : resp.keys()) {
      if (k.public_key().size() != 32) continue;
      std::array<unsigned char, 32> raw;
      std::memcpy(raw.data(), k.public_key().data(), 32);
      keys[k.kid()] = raw;
    }
    return keys;
  };
}

}  // namespace ates::platform
