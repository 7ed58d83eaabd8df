#include "login_throttle.hpp"

#include <algorithm>
#include <cmath>

#include "auth/queries.hpp"

namespace ates::auth {
namespace {

// A key's count after a charge (charge_login_throttle.sql).
struct ChargedKeyRow {
  std::string key;
  int64_t failures = 0;
  double seconds_left = 0;  // until the key's window ends
  static ChargedKeyRow From(const pg::Row& row) {
    return {row.String("key"), row.Int("failures"), std::stod(row.String("seconds_left"))};
  }
};

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
    return c.Exec(sql::kChargeLoginThrottle,
                  {pg::TextArray(keys), pg::Int(settings_.window.count())});
  });
  ThrottleVerdict verdict;
  for (int i = 0; i < r.Rows(); ++i) {
    auto charged = ChargedKeyRow::From(r.At(i));
    bool is_login = charged.key.starts_with("login:");
    int limit = is_login ? settings_.max_failures_per_login : settings_.max_failures_per_address;
    // The count includes this attempt: refused once `limit` earlier ones failed.
    if (charged.failures <= limit) continue;
    auto left = std::chrono::seconds(
        std::max<int64_t>(1, static_cast<int64_t>(std::ceil(charged.seconds_left))));
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
    c.Exec(sql::kRefundLoginThrottle, {pg::Text(LoginKey(login)), pg::TextArray(keys)});
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
  db_.WithRetry([&](pg::Connection& c) {
    c.Exec(sql::kPruneLoginThrottle, {pg::Int(settings_.window.count())});
  });
}

}  // namespace ates::auth
