#include "day_closer.hpp"

#include "ates/platform/log.hpp"

namespace ates::scheduler {

DayCloser::DayCloser(SchedulerService& scheduler, std::chrono::milliseconds interval)
    : scheduler_(scheduler), interval_(interval) {}

DayCloser::~DayCloser() { Stop(); }

void DayCloser::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void DayCloser::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void DayCloser::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    try {
      scheduler_.CloseDueDays([this] {
        std::lock_guard guard(mu_);
        return stopping_;
      });
    } catch (const std::exception& e) {
      log::Warn("closing business days failed; retrying on the next tick", {{"error", e.what()}});
    }
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace ates::scheduler
