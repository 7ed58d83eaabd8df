#include "lifecycles.hpp"

#include <algorithm>

namespace ates::bench::system {

double Lifecycles::Ms(Clock::time_point from, Clock::time_point to) {
  return std::max(0.0, std::chrono::duration<double, std::milli>(to - from).count());
}

std::string Lifecycles::FeePair(Life& l) {
  stats_.CreateFee(l.step, Ms(l.created, l.fee));
  l.completing = true;
  return l.assignee;
}

void Lifecycles::Created(const std::string& task_id, int step, Clock::time_point reply) {
  std::string account;
  {
    std::lock_guard lock(mu_);
    Life& l = lives_[task_id];
    l.step = step;
    l.created = reply;
    if (l.fee != Clock::time_point{}) account = FeePair(l);
  }
  if (!account.empty()) complete_(task_id, account);
}

void Lifecycles::FeeSeen(const std::string& task_id, const std::string& account,
                         Clock::time_point seen) {
  std::string complete_as;
  {
    std::lock_guard lock(mu_);
    Life& l = lives_[task_id];
    l.assignee = account;  // a later fee (a shuffle) names the new assignee
    if (l.fee == Clock::time_point{}) {
      l.fee = seen;
      if (l.created != Clock::time_point{}) complete_as = FeePair(l);
    } else if (!l.completing && l.completed == Clock::time_point{} &&
               l.created != Clock::time_point{}) {
      l.completing = true;  // its completion failed: retry as the new assignee
      complete_as = account;
    }
  }
  if (!complete_as.empty()) complete_(task_id, complete_as);
}

void Lifecycles::Completed(const std::string& task_id, bool ok, Clock::time_point reply) {
  std::lock_guard lock(mu_);
  auto it = lives_.find(task_id);
  if (it == lives_.end()) return;
  it->second.completing = false;
  if (!ok) return;
  it->second.completed = reply;
  if (it->second.reward != Clock::time_point{}) RewardPair(task_id, it->second);
}

bool Lifecycles::RewardPair(const std::string& task_id, Life& l) {
  stats_.CompleteReward(l.step, Ms(l.completed, l.reward));
  stats_.Lifecycle();
  lives_.erase(task_id);
  return true;
}

void Lifecycles::RewardSeen(const std::string& task_id, Clock::time_point seen) {
  std::lock_guard lock(mu_);
  Life& l = lives_[task_id];
  l.reward = seen;
  if (l.completed != Clock::time_point{}) RewardPair(task_id, l);
}

size_t Lifecycles::open() const {
  std::lock_guard lock(mu_);
  return lives_.size();
}

}  // namespace ates::bench::system
