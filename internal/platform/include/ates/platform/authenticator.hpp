#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>

#include "ates/platform/token.hpp"

namespace ates::platform {

class AccountStates;

// Turns a call's `authorization` header into a principal: a valid bearer
// token, signed by a known key, for an account that has not been revoked.
class Authenticator final {
 public:
  using KeyRefresh = std::function<void()>;

  explicit Authenticator(auth::TokenVerifier& verifier) : verifier_(verifier) {}

  // Called (at most every few seconds) when a token names a key we do not have.
  void SetKeyRefresh(KeyRefresh refresh) { refresh_ = std::move(refresh); }
  // Where deactivated and changed accounts are looked up; none: no revocation.
  void SetAccountStates(const AccountStates* states) { states_ = states; }

  // Throws UNAUTHENTICATED without a valid, unrevoked bearer token, and
  // UNAVAILABLE while no verification key is loaded yet.
  auth::Principal Authenticate(std::optional<std::string_view> authorization) const;

 private:
  auth::Principal Verify(std::string_view token) const;

  auth::TokenVerifier& verifier_;
  const AccountStates* states_ = nullptr;
  KeyRefresh refresh_;
  mutable std::mutex refresh_mu_;
  mutable std::chrono::steady_clock::time_point last_refresh_{};
};

}  // namespace ates::platform
