#pragma once

// The load generator's output: the per-step table, result.json, plot.tsv
// (for gnuplot) and the goal line in the benchmark table (report.hpp of bench/).

#include <string>
#include <vector>

#include "big_shuffle.hpp"
#include "config.hpp"
#include "stats.hpp"

namespace ates::bench::system {

struct Calibration {
  double health_calls_per_s = 0;
  double health_cpu_s = 0;  // ates-tasks' CPU per Health/Check
  double commits_per_s = 0;
  double commit_cpu_s = 0;  // PostgreSQL's CPU per raw single-row commit
};

struct Extras {
  double shuffle_ms = -1;  // ShuffleTasks reply, last shuffle of the run
  int64_t shuffle_tasks = 0;
  double close_seconds = -1;  // day closed published -> last payout.made seen
  int64_t payouts = 0;
  BigShuffle big;                       // item 4
  double load_start = 0, load_end = 0;  // 1-minute load averages
};

// Per step: sustained when p99 create -> fee <= 250 ms, lag not growing and
// >= 90% of the offered rate achieved.
struct Verdict {
  double achieved = 0, p99_create_fee = 0, p99_complete_reward = 0, p50_create_fee = 0;
  int64_t lag_max = 0;
  bool lag_grows = false;
  bool sustained = false;
};
Verdict Judge(const StepStats& s);

void WriteReport(const Config& c, const std::vector<StepStats>& steps, const Calibration& cal,
                 const Extras& x);

}  // namespace ates::bench::system
