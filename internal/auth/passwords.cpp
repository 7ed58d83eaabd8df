#include "passwords.hpp"

#include <sodium.h>

#include <stdexcept>

namespace ates::auth {
namespace {
constexpr unsigned long long kOpsLimit = 2;
constexpr size_t kMemLimit = 19 * 1024 * 1024;
}  // namespace

std::string HashPassword(std::string_view password) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium init failed");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing ran out of memory");
  }
  return out;
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  std::string h(hash);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

const std::string& DummyHash() {
  static const std::string hash = [] {
    unsigned char random[24];
    if (sodium_init() < 0) throw std::runtime_error("libsodium init failed");
    randombytes_buf(random, sizeof random);
    return HashPassword(std::string_view(reinterpret_cast<char*>(random), sizeof random));
  }();
  return hash;
}

}  // namespace ates::auth
