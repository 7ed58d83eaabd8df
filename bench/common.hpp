#pragma once

// Shared helpers of the benchmark programs: settings from the environment,
// wall-clock timing and the figure lines (each with its goal) that bench_run
// collects and prints as a table (report.hpp).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

typedef struct __natsConnection natsConnection;
typedef struct __jsCtx jsCtx;

namespace ates::bench {

// Settings, from ATES_BENCH_* variables or --key=value flags (flags win).
struct Settings {
  std::string pg_url;       // ATES_BENCH_PG_URL, --pg
  std::string nats_url;     // ATES_BENCH_NATS_URL, --nats
  int64_t events = 200000;  // ATES_BENCH_EVENTS, --events
  std::string results;      // ATES_BENCH_RESULTS, --results: TSV file the figures are appended to
};
Settings ParseSettings(int argc, char** argv);

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// "48,700"
std::string Grouped(int64_t value);

// What a figure is held to, declared where the figure is measured. A goal
// without a kind only shows the figure as a share of its `versus` figures.
struct Goal {
  enum class Kind { kNone, kMinRate, kMaxSeconds };
  Kind kind = Kind::kNone;
  double value = 0;                 // per second (kMinRate) or seconds (kMaxSeconds)
  std::string text;                 // how the goal reads, e.g. ">= 30,000 events/s"
  std::vector<std::string> versus;  // keys of the figures this one is set against

  static Goal MinRate(double per_second, std::string_view unit,
                      std::vector<std::string> versus = {});
  static Goal MaxSeconds(double seconds, std::vector<std::string> versus = {});
  static Goal Versus(std::vector<std::string> versus);
  bool Met(double rate, double seconds) const;
};

// Prints `label: N unit in S s = R unit/s` (and the goal) and appends a row to
// the results file. `key` orders and names the row in the final table.
void Report(const Settings& s, std::string_view key, std::string_view label, int64_t count,
            std::string_view unit, double seconds, const Goal& goal = {});

// Prints an informational line (not a figure), prefixed with the program name.
void Note(std::string_view text);

// Throws std::runtime_error with `what` and the nats status text unless s == NATS_OK.
void CheckNats(int status, std::string_view what);

// A 200-byte pseudo-random printable payload with a counter folded in.
std::string Payload(int64_t i, size_t size = 200);

// Raw single-row INSERT commits (a uuid and a 200-byte payload, autocommit) on
// `connections` connections to `pg_url` for `duration`, into a scratch table
// `bench_raw_commits` that it creates and drops. The rate is bound by the WAL
// flush and the CPU; a fixed time keeps a slow disk from stretching the run.
struct CommitRun {
  int64_t commits = 0;
  double seconds = 0;
};
CommitRun SingleRowCommits(const std::string& pg_url, int connections,
                           std::chrono::milliseconds duration);

}  // namespace ates::bench
