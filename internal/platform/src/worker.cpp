#include "ates/platform/worker.hpp"

#include <pthread.h>

#include "ates/platform/log.hpp"

namespace ates::platform {

Worker::Worker(std::string name, Body body) : name_(std::move(name)) {
  thread_ = std::jthread([this, body = std::move(body)] {
    // Linux thread names are at most 15 characters; they show in top -H and perf.
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    try {
      body(*this, stop_.get_token());
    } catch (const std::exception& e) {
      log::Error("background worker ended with an error", {{"worker", name_}, {"error", e.what()}});
    }
  });
}

Worker::~Worker() { Stop(); }

void Worker::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_.notify_all();
}

bool Worker::SleepFor(std::chrono::milliseconds duration) {
  std::unique_lock lock(mu_);
  std::stop_token stop = stop_.get_token();
  wake_.wait_for(lock, stop, duration, [this] { return woken_; });
  woken_ = false;
  return !stop.stop_requested();
}

void Worker::Stop() {
  if (!thread_.joinable()) return;
  stop_.request_stop();
  wake_.notify_all();
  thread_.join();
}

}  // namespace ates::platform
