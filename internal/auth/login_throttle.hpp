#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "ates/platform/pg.hpp"

namespace ates::auth {

struct LoginThrottleSettings {
  int max_failures_per_login = 5;     // failures in a window before a login is slowed
  int max_failures_per_address = 50;  // the same for one client address (spraying)
  std::chrono::seconds window{900};
};

struct ThrottleVerdict {
  bool throttled = false;
  std::string reason;  // "login" or "address"
  std::chrono::seconds retry_after{0};
};

// Failed-login counters per login name and per client address in PostgreSQL,
// shared by every replica. An attempt is charged to both counters before the
// password is checked, in one INSERT ... ON CONFLICT DO UPDATE ... RETURNING,
// so parallel guesses are all counted and none passes a stale check; a
// success refunds it. A throttled key is refused until its window ends, never
// longer: refused attempts do not move the window.
class LoginThrottle final {
 public:
  LoginThrottle(pg::Pool& db, LoginThrottleSettings settings);

  ThrottleVerdict Charge(const std::string& login, const std::string& address);
  // After a successful login: the login's failures are forgiven, the
  // address gets this attempt back.
  void Refund(const std::string& login, const std::string& address);
  // Deletes the counters of ended windows.
  void Prune();

 private:
  void PruneNowAndThen();

  pg::Pool& db_;
  LoginThrottleSettings settings_;
  // steady_clock ticks of the last prune; one charge in a while prunes.
  std::atomic<int64_t> last_prune_{0};
};

}  // namespace ates::auth
