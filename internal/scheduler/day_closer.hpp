#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "scheduler_service.hpp"

namespace ates::scheduler {

// The automatic pass on a timer: every `interval` it closes the business days
// that are over (SchedulerService::CloseDueDays). Failures are logged and retried
// on the next tick; closing is idempotent, so a tick that died half-way loses nothing.
class DayCloser final {
 public:
  static constexpr const char* kName = "schedule";

  DayCloser(SchedulerService& scheduler, std::chrono::milliseconds interval);
  ~DayCloser();
  DayCloser(const DayCloser&) = delete;
  DayCloser& operator=(const DayCloser&) = delete;

  void Start();
  // Waits for a pass in progress to finish. Safe to call more than once.
  void Stop();

 private:
  void Run();

  SchedulerService& scheduler_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ates::scheduler
