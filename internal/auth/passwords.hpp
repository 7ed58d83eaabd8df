#pragma once

#include <string>
#include <string_view>

namespace ates::auth {

// Argon2id (libsodium) at OWASP's minimum: 19 MiB of memory, 2 passes.
std::string HashPassword(std::string_view password);
bool VerifyPassword(std::string_view hash, std::string_view password);
// A valid hash of a random password, verified against when a login is unknown
// so that unknown logins cost the same time as wrong passwords.
const std::string& DummyHash();

}  // namespace ates::auth
