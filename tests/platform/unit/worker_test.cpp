#include "ates/platform/worker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

namespace ates::platform {
namespace {

using namespace std::chrono_literals;

TEST(WorkerTest, StopEndsALongSleepAtOnce) {
  std::atomic<int> rounds{0};
  auto started = std::chrono::steady_clock::now();
  {
    Worker worker("test-sleeper", [&](Worker& self, std::stop_token) {
      while (self.SleepFor(1h)) ++rounds;
    });
    std::this_thread::sleep_for(20ms);
  }  // the destructor stops and joins
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(rounds.load(), 0);
}

TEST(WorkerTest, WakeEndsTheCurrentSleepWithoutStopping) {
  std::atomic<int> rounds{0};
  Worker worker("test-waker", [&](Worker& self, std::stop_token stop) {
    while (!stop.stop_requested()) {
      if (self.SleepFor(1h)) ++rounds;
    }
  });
  for (int i = 0; i < 200 && rounds.load() == 0; ++i) {
    worker.Wake();
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GE(rounds.load(), 1);
  worker.Stop();
  int after_stop = rounds.load();
  worker.Wake();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(rounds.load(), after_stop);
}

TEST(WorkerTest, AnExceptionEndsOnlyTheWorker) {
  std::atomic<bool> ran{false};
  Worker worker("test-thrower", [&](Worker&, std::stop_token) {
    ran = true;
    throw std::runtime_error("broken");  // escaping the thread would terminate the process
  });
  for (int i = 0; i < 200 && !ran.load(); ++i) std::this_thread::sleep_for(5ms);
  worker.Stop();  // joins a body that already ended
  EXPECT_TRUE(ran.load());
}

}  // namespace
}  // namespace ates::platform
