#include "login_throttle.hpp"

#include <algorithm>
#include <cmath>

namespace ates::auth {
namespace {

// $1: keys (sorted, so concurrent charges lock rows in the same order), $2: window (s).
constexpr std::string_view kCharge =
    "INSERT INTO login_throttle AS t (key, failures, window_start)"
    " SELECT k, 1, now() FROM unnest($1::text[]) AS k"
    " ON CONFLICT (key) DO UPDATE SET"
    " failures = CASE WHEN t.window_start > now() - make_interval(secs => $2)"
    "   THEN t.failures + 1 ELSE 1 END,"
    " window_start = CASE WHEN t.window_start > now() - make_interval(secs => $2)"
    "   THEN t.window_start ELSE now() END"
    " RETURNING key, failures,"
    " EXTRACT(EPOCH FROM t.window_start + make_interval(secs => $2) - now())::float8";
// $1: the login's key (cleared), $2: every key of the attempt.
constexpr std::string_view kRefund =
    "UPDATE login_throttle SET failures = CASE WHEN key = $1 THEN 0"
    " ELSE greatest(failures - 1, 0) END WHERE key = ANY($2::text[])";
constexpr std::string_view kPrune =
    "DELETE FROM login_throttle WHERE window_start < now() - make_interval(secs => $1)";

constexpr std::chrono::seconds kMaxPruneInterval{60};

std::string LoginKey(const std::string& login) { return "login:" + login; }
std::string AddressKey(const std::string& address) { return "addr:" + address; }

}  // namespace

LoginThrottle::LoginThrottle(pg::Pool& db, LoginThrottleSettings settings)
    : db_(db), settings_(settings) {}

ThrottleVerdict LoginThrottle::Charge(const std::string& login, const std::string& address) {
  PruneNowAndThen();
  std::vector<std::string> keys = {LoginKey(login), AddressKey(address)};
  std::sort(keys.begin(), keys.end());
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(kCharge, {pg::TextArray(keys), pg::Int(settings_.window.count())});
  });
  ThrottleVerdict verdict;
  for (int i = 0; i < r.Rows(); ++i) {
    bool is_login = r.Text(i, 0).substr(0, 6) == "login:";
    int limit = is_login ? settings_.max_failures_per_login : settings_.max_failures_per_address;
    // The count includes this attempt: refused once `limit` earlier ones failed.
    if (r.Int(i, 1) <= limit) continue;
    auto left = std::chrono::seconds(
        std::max<int64_t>(1, static_cast<int64_t>(std::ceil(std::stod(r.String(i, 2))))));
    if (!verdict.throttled || left > verdict.retry_after) {
      verdict.throttled = true;
      verdict.reason = is_login ? "login" : "address";
      verdict.retry_after = left;
    }
  }
  return verdict;
}

void LoginThrottle::Refund(const std::string& login, const std::string& address) {
  std::vector<std::string> keys = {LoginKey(login), AddressKey(address)};
  db_.WithRetry([&](pg::Connection& c) {
    c.Exec(kRefund, {pg::Text(LoginKey(login)), pg::TextArray(keys)});
  });
}

void LoginThrottle::PruneNowAndThen() {
  auto interval =
      std::min<std::chrono::steady_clock::duration>(settings_.window, kMaxPruneInterval);
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  auto last = last_prune_.load();
  if (last != 0 && now - last < interval.count()) return;
  if (!last_prune_.compare_exchange_strong(last, now)) return;  // another call prunes
  Prune();
}

void LoginThrottle::Prune() {
  db_.WithRetry([&](pg::Connection& c) { c.Exec(kPrune, {pg::Int(settings_.window.count())}); });
}

}  // namespace ates::auth
