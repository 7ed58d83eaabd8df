#include "day_closer.hpp"

#include "ates/platform/log.hpp"

namespace ates::scheduler {

DayCloser::DayCloser(SchedulerService& scheduler, std::chrono::milliseconds interval)
    : scheduler_(scheduler), interval_(interval) {}

void DayCloser::Run(platform::Worker& worker, std::stop_token stop) {
  do {
    try {
      scheduler_.CloseDueDays([&stop] { return stop.stop_requested(); });
    } catch (const std::exception& e) {
      log::Warn("closing business days failed; retrying on the next tick", {{"error", e.what()}});
    }
  } while (worker.SleepFor(interval_));
}

}  // namespace ates::scheduler
