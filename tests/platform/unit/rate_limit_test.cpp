#include "ates/platform/rate_limit.hpp"

#include <gtest/gtest.h>

namespace ates::platform {
namespace {

using namespace std::chrono_literals;
using Clock = KeyedRateLimiter::Clock;

TEST(KeyedRateLimiter, AllowsTheBurstThenOneCallPerIntervalPerKey) {
  KeyedRateLimiter limit(60, 2);  // one a second, two at once
  auto t0 = Clock::time_point() + 1h;
  EXPECT_EQ(limit.Take("a", t0), 0ms);
  EXPECT_EQ(limit.Take("a", t0), 0ms);
  EXPECT_EQ(limit.Take("a", t0), 1000ms);         // the burst is spent
  EXPECT_EQ(limit.Take("a", t0 + 400ms), 600ms);  // a refused call takes nothing
  EXPECT_EQ(limit.Take("b", t0), 0ms);            // each key has its own bucket
  EXPECT_EQ(limit.Take("a", t0 + 1000ms), 0ms);   // refilled by one
  EXPECT_EQ(limit.Take("a", t0 + 1000ms), 1000ms);
  EXPECT_EQ(limit.Take("a", t0 + 1h), 0ms);  // never more than the burst banked
  EXPECT_EQ(limit.Take("a", t0 + 1h), 0ms);
  EXPECT_GT(limit.Take("a", t0 + 1h), 0ms);
}

TEST(KeyedRateLimiter, ZeroRateIsNoLimit) {
  KeyedRateLimiter off(0, 1);
  EXPECT_FALSE(off.enabled());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(off.Take("a"), 0ms);
}

TEST(KeyedRateLimiter, StaysBoundedWithManyKeys) {
  KeyedRateLimiter limit(60, 1, /*max_keys=*/10);
  auto t0 = Clock::time_point() + 1h;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(limit.Take("k" + std::to_string(i), t0), 0ms);
  // Full of busy keys: the map starts over instead of growing (a key may then
  // get a fresh burst; the limit bounds abuse, it is not accounting).
  EXPECT_EQ(limit.Take("new", t0), 0ms);
  // When full again, refilled buckets ("new") are forgotten first and busy
  // keys keep their state.
  for (int i = 0; i < 9; ++i) EXPECT_EQ(limit.Take("x" + std::to_string(i), t0 + 2s), 0ms);
  EXPECT_EQ(limit.Take("y", t0 + 2s), 0ms);
  EXPECT_GT(limit.Take("x0", t0 + 2s), 0ms);
}

}  // namespace
}  // namespace ates::platform
