#pragma once

// What the load generator measures, step by step (one step = one offered rate).

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace ates::bench::system {

struct StepStats {
  double offered = 0;                                 // lifecycles/s asked for
  double seconds = 0;                                 // how long the step ran
  int64_t creates = 0;                                // CreateTask calls started
  int64_t lifecycles = 0;                             // rewards seen during the step
  std::map<std::string, std::vector<double>> rpc_ms;  // replies, by method
  std::map<std::string, int64_t> rpc_errors;
  std::vector<double> create_fee_ms;  // of the tasks created in the step
  std::vector<double> complete_reward_ms;
  std::vector<int64_t> lag;             // billing's num_pending on TASKS, sampled
  int64_t redelivered_max = 0;          // its num_redelivered, highest sample
  std::map<std::string, double> cpu_s;  // CPU seconds of each process in the step
};

// The nearest-rank percentile (p in [0, 100]) of `v`; 0 when empty.
double Percentile(std::vector<double> v, double p);

class Stats final {
 public:
  void BeginStep(double offered);
  int step() const;  // index of the running step (-1 between steps)
  void Rpc(int step, const std::string& method, double ms, bool ok);
  void CreateFee(int step, double ms);
  void CompleteReward(int step, double ms);
  void Lifecycle();
  void Created();
  void Lag(int64_t pending, int64_t redelivered);
  void EndStep(double seconds, std::map<std::string, double> cpu_s);
  std::vector<StepStats> Steps() const;

 private:
  StepStats* At(int step);

  mutable std::mutex mu_;
  std::vector<StepStats> steps_;
  bool running_ = false;  // between BeginStep and EndStep
};

}  // namespace ates::bench::system
