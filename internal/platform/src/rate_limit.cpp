#include "ates/platform/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace ates::platform {

KeyedRateLimiter::KeyedRateLimiter(double per_minute, double burst, size_t max_keys)
    : per_second_(per_minute / 60.0), burst_(std::max(1.0, burst)), max_keys_(max_keys) {}

std::chrono::milliseconds KeyedRateLimiter::Take(const std::string& key, Clock::time_point now) {
  if (!enabled()) return std::chrono::milliseconds(0);
  std::lock_guard lock(mu_);
  if (buckets_.size() >= max_keys_ && !buckets_.count(key)) ForgetFullBuckets(now);
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  double elapsed = std::chrono::duration<double>(now - b.at).count();
  b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * per_second_);
  b.at = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::chrono::milliseconds(0);
  }
  double wait_s = (1.0 - b.tokens) / per_second_;
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(wait_s * 1000.0)));
}

void KeyedRateLimiter::ForgetFullBuckets(Clock::time_point now) {
  // A bucket that has refilled is the same as no bucket.
  double refill_s = burst_ / per_second_;
  std::erase_if(buckets_, [&](const auto& entry) {
    return std::chrono::duration<double>(now - entry.second.at).count() >= refill_s;
  });
  // Still full of busy keys: start over rather than grow without bound.
  if (buckets_.size() >= max_keys_) buckets_.clear();
}

}  // namespace ates::platform
