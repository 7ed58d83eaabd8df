#pragma once

#include <cstdint>
#include <mutex>
#include <random>

namespace ates::platform {

// Uniform, unbiased random choices (std::uniform_int_distribution, never
// `rand() % n`), seedable so tests can repeat a sequence. Thread-safe.
class RandomPicker final {
 public:
  RandomPicker() : engine_(std::random_device{}()) {}
  explicit RandomPicker(uint64_t seed) : engine_(seed) {}

  // An index in [0, n); n must be > 0.
  size_t Pick(size_t n) {
    std::lock_guard lock(mu_);
    return std::uniform_int_distribution<size_t>(0, n - 1)(engine_);
  }
  // An integer in [lo, hi], both included.
  int64_t Between(int64_t lo, int64_t hi) {
    std::lock_guard lock(mu_);
    return std::uniform_int_distribution<int64_t>(lo, hi)(engine_);
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

}  // namespace ates::platform
