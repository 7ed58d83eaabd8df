#pragma once

// The task lifecycles in flight: created (CreateTask's reply) -> assigned and
// fee posted (its first billing.transaction.applied ASSIGN_FEE) -> completed
// (CompleteTask's reply) -> reward posted (its COMPLETION_REWARD). A reply
// and its event may arrive in either order; each pair is timed from the
// reply to the event (0 when the event came first).

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "async_rpc.hpp"
#include "stats.hpp"

namespace ates::bench::system {

class Lifecycles final {
 public:
  // Called when a task's fee is seen and it should be completed by `account`.
  using Complete = std::function<void(const std::string& task_id, const std::string& account)>;
  Lifecycles(Stats& stats, Complete complete) : stats_(stats), complete_(std::move(complete)) {}

  void Created(const std::string& task_id, int step, Clock::time_point reply);
  void FeeSeen(const std::string& task_id, const std::string& account, Clock::time_point seen);
  // CompleteTask answered; ok == false: retried at the next fee (a shuffle moved it).
  void Completed(const std::string& task_id, bool ok, Clock::time_point reply);
  void RewardSeen(const std::string& task_id, Clock::time_point seen);
  size_t open() const;

 private:
  struct Life {
    int step = -1;
    Clock::time_point created{}, fee{}, completed{}, reward{};
    std::string assignee;
    bool completing = false;
  };
  static double Ms(Clock::time_point from, Clock::time_point to);
  // With mu_ held: the fee pair is complete; returns whom to complete as.
  std::string FeePair(Life& l);
  bool RewardPair(const std::string& task_id, Life& l);

  Stats& stats_;
  Complete complete_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Life> lives_;
};

}  // namespace ates::bench::system
