#pragma once

#include <chrono>
#include <thread>

namespace ates::test {

using namespace std::chrono_literals;

// Polls `pred` until it holds or the deadline passes; returns the last result.
// Asynchronous effects are awaited with this, never with a bare sleep.
template <class Pred>
bool Eventually(Pred&& pred, std::chrono::milliseconds timeout = 20s,
                std::chrono::milliseconds interval = 20ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace ates::test
