#include "session_cookie.hpp"

#include <algorithm>

namespace ates::gateway {
namespace {

std::string Trim(const std::string& s) {
  size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  size_t end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

// Cookie values are base64url JWTs: anything else would break the header.
bool IsCookieSafe(const std::string& value) {
  return std::all_of(value.begin(), value.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
  });
}

}  // namespace

const std::string& HttpRequest::Header(const std::string& lower_name) const {
  static const std::string kEmpty;
  auto it = headers.find(lower_name);
  return it == headers.end() ? kEmpty : it->second;
}

std::string CookieValue(const std::string& cookie_header, const std::string& name) {
  size_t pos = 0;
  while (pos <= cookie_header.size()) {
    size_t end = cookie_header.find(';', pos);
    if (end == std::string::npos) end = cookie_header.size();
    std::string pair = Trim(cookie_header.substr(pos, end - pos));
    size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    pos = end + 1;
  }
  return "";
}

std::string UpstreamAuthorization(const HttpRequest& request) {
  const std::string& own = request.Header("authorization");
  if (!own.empty()) return own;
  std::string token = CookieValue(request.Header("cookie"), kSessionCookie);
  if (token.empty() || !IsCookieSafe(token)) return "";
  return "Bearer " + token;
}

std::string SessionCookie(const std::string& token, std::chrono::seconds max_age, bool secure) {
  long long seconds = std::max<long long>(0, max_age.count());
  std::string cookie = std::string(kSessionCookie) + "=" + token +
                       "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" + std::to_string(seconds);
  if (secure) cookie += "; Secure";
  return cookie;
}

std::string ClearedSessionCookie(bool secure) {
  return SessionCookie("", std::chrono::seconds(0), secure);
}

}  // namespace ates::gateway
