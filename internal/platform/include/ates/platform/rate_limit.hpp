#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ates::platform {

// A token bucket per key (an account id): `per_minute` calls a minute on
// average, up to `burst` at once. In memory, so per replica: with R replicas a
// key may reach R times the rate (the limit bounds abuse, it is not a quota).
// Thread-safe.
class KeyedRateLimiter final {
 public:
  using Clock = std::chrono::steady_clock;

  // per_minute <= 0 turns the limit off.
  KeyedRateLimiter(double per_minute, double burst, size_t max_keys = 100000);

  // Takes one call for `key`: zero when allowed, else how long until the next
  // call would be (nothing is taken then).
  std::chrono::milliseconds Take(const std::string& key, Clock::time_point now = Clock::now());

  bool enabled() const { return per_second_ > 0; }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point at;
  };
  void ForgetFullBuckets(Clock::time_point now);

  double per_second_;
  double burst_;
  size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace ates::platform
