#pragma once

#include <chrono>
#include <string>

#include "ates/platform/token.hpp"

namespace ates::test {

// Builds compact JWS tokens by hand, including broken ones, for auth tests.
// Pure functions (no I/O), usable from unit and integration tests alike.

// header.payload.signature with an Ed25519 signature by `key`, or an empty
// signature when key is null.
std::string MintToken(const std::string& header_json, const std::string& payload_json,
                      const auth::SigningKey* key);

// `version` is claim "ver": a token older than its account's version is
// revoked, so a forged token for a real account needs at least its version.
std::string ClaimsJson(const std::string& issuer, const std::string& audience,
                       const std::string& subject, const std::string& role,
                       std::chrono::system_clock::time_point expires_at, int64_t version = 0);

std::string EdDsaHeader(const std::string& kid);

// The SigningKey from a 64-byte libsodium secret key (as stored by ates-auth).
auth::SigningKey KeyFromSecret(const std::string& kid, const std::string& secret64);

}  // namespace ates::test
