#pragma once

#include <chrono>
#include <stop_token>

#include "ates/platform/worker.hpp"
#include "scheduler_service.hpp"

namespace ates::scheduler {

// The automatic pass on a timer: every `interval` it closes the business days
// that are over (SchedulerService::CloseDueDays). Failures are logged and retried
// on the next tick; closing is idempotent, so a tick that died half-way loses nothing.
// The runtime runs Run() as the "day-closer" worker; stopping it waits for a
// pass in progress to notice the stop and finish.
class DayCloser final {
 public:
  static constexpr const char* kName = "schedule";

  DayCloser(SchedulerService& scheduler, std::chrono::milliseconds interval);
  DayCloser(const DayCloser&) = delete;
  DayCloser& operator=(const DayCloser&) = delete;

  void Run(platform::Worker& worker, std::stop_token stop);

 private:
  SchedulerService& scheduler_;
  std::chrono::milliseconds interval_;
};

}  // namespace ates::scheduler
