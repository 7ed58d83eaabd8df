#pragma once

// The calls of the mix, each asynchronous on the completion queues, timed
// into Stats under the step that was running when it started.

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "async_rpc.hpp"
#include "lifecycles.hpp"
#include "people.hpp"
#include "stats.hpp"

namespace ates::bench::system {

struct Addresses {
  std::string auth, tasks, billing;
};

class Load final {
 public:
  Load(const Addresses& a, int channels, int queues, const People& people, Stats& stats);
  ~Load();

  // A task created by a worker (70%) or a manager (30%).
  void CreateTask();
  // One of: a worker's open tasks, its balance, its transactions of today.
  void Read();
  void Shuffle(std::function<void(double ms, int64_t count)> done = {});
  void Health(std::function<void()> done);
  // The watcher's callback: fees start completions, rewards end lifecycles.
  void OnApplied(const struct Applied& a);
  Lifecycles& lifecycles() { return lives_; }
  int64_t in_flight() const { return cqs_.in_flight(); }

 private:
  void Complete(const std::string& task_id, const std::string& account);
  const Person& AnyWorker();
  template <class Stub>
  Stub& Pick(std::vector<std::unique_ptr<Stub>>& stubs) {
    return *stubs[next_.fetch_add(1, std::memory_order_relaxed) % stubs.size()];
  }
  struct Stubs;

  const People& people_;
  Stats& stats_;
  CompletionQueues cqs_;
  std::unique_ptr<Stubs> stubs_;
  Lifecycles lives_;
  std::atomic<uint64_t> next_{0};
  std::atomic<uint64_t> created_{0};
  std::string run_id_;
};

}  // namespace ates::bench::system
