#include "ates/platform/authenticator.hpp"

#include "ates/platform/account_states.hpp"
#include "ates/platform/error.hpp"

namespace ates::platform {

auth::Principal Authenticator::Authenticate(std::optional<std::string_view> authorization) const {
  if (!authorization) {
    throw Error(ErrorCode::kUnauthenticated, "missing access token (authorization: Bearer ...)");
  }
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view value = *authorization;
  if (value.size() <= kBearer.size() || value.substr(0, kBearer.size()) != kBearer) {
    throw Error(ErrorCode::kUnauthenticated, "authorization must be 'Bearer <token>'");
  }
  // Until the first keys arrive (ates-auth may start after this daemon) no
  // token can be checked: that is our state, not the caller's fault, so it is
  // UNAVAILABLE (retry) rather than UNAUTHENTICATED (log in again).
  if (verifier_.KeyCount() == 0) {
    throw Error(ErrorCode::kUnavailable,
                "token verification keys not loaded yet (ates-auth not reached); retry later");
  }
  auth::Principal principal = Verify(value.substr(kBearer.size()));
  if (states_ != nullptr) states_->CheckNotRevoked(principal);
  return principal;
}

auth::Principal Authenticator::Verify(std::string_view token) const {
  std::string unknown_kid;
  try {
    return verifier_.Verify(token, std::chrono::system_clock::now(), &unknown_kid);
  } catch (const Error&) {
    if (unknown_kid.empty() || !refresh_) throw;
    {
      std::lock_guard lock(refresh_mu_);
      auto now = std::chrono::steady_clock::now();
      if (now - last_refresh_ < std::chrono::seconds(5)) throw;
      last_refresh_ = now;
    }
    refresh_();
    return verifier_.Verify(token);
  }
}

}  // namespace ates::platform
