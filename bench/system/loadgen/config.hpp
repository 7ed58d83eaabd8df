#pragma once

// The load generator's settings, all from the environment: what the driver
// (bench_system) passes (addresses, pids, URLs) and the knobs of the run.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ates::bench::system {

struct Config {
  std::vector<double> rates;                // ATES_SYSTEM_RATES ("50 100 200 400 800 1200")
  double step_seconds = 10;                 // ATES_SYSTEM_STEP_SECONDS
  int workers = 40;                         // ATES_SYSTEM_WORKERS
  int managers = 4;                         // ATES_SYSTEM_MANAGERS
  double reads = 1.0;                       // ATES_SYSTEM_READS: read calls per lifecycle
  double shuffle_seconds = 30;              // ATES_SYSTEM_SHUFFLE_SECONDS: a shuffle this often
  int channels = 4;                         // ATES_SYSTEM_CHANNELS per service
  int queues = 2;                           // ATES_SYSTEM_QUEUES: completion queues (threads)
  int max_in_flight = 2000;                 // ATES_SYSTEM_MAX_IN_FLIGHT calls
  double calibrate_seconds = 3;             // ATES_SYSTEM_CALIBRATE_SECONDS
  std::string auth, tasks, billing;         // ATES_SYSTEM_ADDR_{AUTH,TASKS,BILLING}
  std::string admin_login, admin_password;  // ATES_SYSTEM_ADMIN_{LOGIN,PASSWORD}
  std::string nats_url;                     // ATES_SYSTEM_NATS_URL
  int64_t big_shuffle = 100000;       // ATES_SYSTEM_BIG_SHUFFLE: open tasks of item 4 (0: skip)
  std::string tasks_pg_url;           // ATES_SYSTEM_TASKS_PG_URL (ates-tasks' database)
  std::string raw_pg_url;             // ATES_SYSTEM_RAW_PG_URL (a scratch database)
  std::string out_dir;                // ATES_SYSTEM_OUT: result.json, plot.tsv
  std::string results;                // ATES_BENCH_RESULTS (the goal table)
  std::map<std::string, pid_t> pids;  // ATES_SYSTEM_PIDS="tasks=12 ... postgres=34 nats=56"
};

Config LoadConfig();

}  // namespace ates::bench::system
