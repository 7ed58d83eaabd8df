#pragma once

#include <chrono>
#include <string>

#include "http_message.hpp"

namespace ates::gateway {

// The browser session: the access token in an HttpOnly, SameSite=Strict
// cookie that the page's script cannot read (ADR 0024).
inline constexpr const char* kSessionCookie = "ates_session";

// "Bearer <token>" for the upstream call: the request's own Authorization
// header (curl, scripts) when it has one, else the session cookie, else "".
std::string UpstreamAuthorization(const HttpRequest& request);

// The cookie's value in a Cookie header ("a=1; ates_session=xyz"), or "".
std::string CookieValue(const std::string& cookie_header, const std::string& name);

// Set-Cookie that stores `token` until it expires (Max-Age in whole seconds,
// at least 0); `secure` adds "; Secure" (the gateway serves TLS).
std::string SessionCookie(const std::string& token, std::chrono::seconds max_age, bool secure);
// Set-Cookie that deletes the session (Max-Age=0).
std::string ClearedSessionCookie(bool secure);

}  // namespace ates::gateway
