#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

namespace ates::platform {

// One named background thread of a daemon. The body gets the worker's
// stop_token and must return soon after stop is requested; it sleeps with
// SleepFor, which wakes at once on Stop() or Wake(). Stop() (also run by the
// destructor) requests stop, wakes the body and joins it: every background
// loop in the system stops the same way.
class Worker final {
 public:
  using Body = std::function<void(Worker&, std::stop_token)>;

  Worker(std::string name, Body body);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  const std::string& name() const { return name_; }
  // Ends the body's current (or next) SleepFor early, e.g. new work arrived.
  void Wake();
  // Waits up to `duration`, until Wake() or a stop request. Returns false when
  // stop was requested.
  bool SleepFor(std::chrono::milliseconds duration);
  void Stop();

 private:
  std::string name_;
  std::mutex mu_;
  std::condition_variable_any wake_;
  bool woken_ = false;     // guarded by mu_
  std::stop_source stop_;  // the body's token; made before the thread starts
  std::jthread thread_;    // last: starts once every member above exists
};

}  // namespace ates::platform
