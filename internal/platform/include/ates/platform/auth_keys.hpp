#pragma once

// Fetches the token-verification keys from ates-auth (GetPublicKeys).

#include <functional>
#include <string>

#include "ates/platform/tls_channel.hpp"
#include "ates/platform/token.hpp"

namespace ates::platform {

// A loader that asks ates-auth at `target` ("host:port") for its public keys
// over `tls` (plaintext when !tls.enabled()), with a 2 s deadline; throws
// std::runtime_error when the call fails. A new channel each call, so
// rotated client certificate files are picked up.
std::function<auth::TokenVerifier::PublicKeys()> RemoteKeyLoader(std::string target, ClientTls tls);

}  // namespace ates::platform
