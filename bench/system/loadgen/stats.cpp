#include "stats.hpp"

#include <algorithm>
#include <cmath>

namespace ates::bench::system {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

void Stats::BeginStep(double offered) {
  std::lock_guard lock(mu_);
  steps_.emplace_back().offered = offered;
  running_ = true;
}

int Stats::step() const {
  std::lock_guard lock(mu_);
  return running_ ? static_cast<int>(steps_.size()) - 1 : -1;
}

StepStats* Stats::At(int step) {
  if (step < 0 || step >= static_cast<int>(steps_.size())) return nullptr;
  return &steps_[step];
}

void Stats::Rpc(int step, const std::string& method, double ms, bool ok) {
  std::lock_guard lock(mu_);
  if (auto* s = At(step)) {
    if (ok)
      s->rpc_ms[method].push_back(ms);
    else
      ++s->rpc_errors[method];
  }
}

void Stats::CreateFee(int step, double ms) {
  std::lock_guard lock(mu_);
  if (auto* s = At(step)) s->create_fee_ms.push_back(ms);
}

void Stats::CompleteReward(int step, double ms) {
  std::lock_guard lock(mu_);
  if (auto* s = At(step)) s->complete_reward_ms.push_back(ms);
}

void Stats::Lifecycle() {
  std::lock_guard lock(mu_);
  if (!running_) return;
  if (auto* s = At(static_cast<int>(steps_.size()) - 1)) ++s->lifecycles;
}

void Stats::Created() {
  std::lock_guard lock(mu_);
  if (!running_) return;
  if (auto* s = At(static_cast<int>(steps_.size()) - 1)) ++s->creates;
}

void Stats::Lag(int64_t pending, int64_t redelivered) {
  std::lock_guard lock(mu_);
  if (!running_) return;
  if (auto* s = At(static_cast<int>(steps_.size()) - 1)) {
    s->lag.push_back(pending);
    s->redelivered_max = std::max(s->redelivered_max, redelivered);
  }
}

void Stats::EndStep(double seconds, std::map<std::string, double> cpu_s) {
  std::lock_guard lock(mu_);
  if (auto* s = At(static_cast<int>(steps_.size()) - 1)) {
    running_ = false;
    s->seconds = seconds;
    s->cpu_s = std::move(cpu_s);
  }
}

std::vector<StepStats> Stats::Steps() const {
  std::lock_guard lock(mu_);
  return steps_;
}

}  // namespace ates::bench::system
