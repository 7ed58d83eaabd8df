#pragma once
// The real ates-scheduler daemon for integration tests.

#include <map>
#include <string>

#include "support/daemon.hpp"

#ifndef ATES_SCHEDULER_BIN
#error "ATES_SCHEDULER_BIN must be defined by the build"
#endif

namespace ates::test {

// An ates-scheduler on `database_url` whose clock stands still at `now`
// (schedule.now_override, RFC 3339), checking every second. A clock standing
// in the past is months away from PostgreSQL's, so the skew bound is lifted
// here (a test of the bound sets ATES_SCHEDULE_MAX_CLOCK_SKEW in `env`);
// PostgreSQL's today still caps what may be closed.
inline DaemonOptions SchedulerDaemon(const std::string& name, const std::string& database_url,
                                     const std::string& auth_target, const std::string& first_date,
                                     const std::string& now,
                                     std::map<std::string, std::string> env = {}) {
  return SystemDaemon(name, "ates-scheduler", ATES_SCHEDULER_BIN, database_url,
                      {{"ATES_NATS_DUPLICATE_WINDOW", "1s"},
                       {"ATES_AUTH_KEYS_URL", auth_target},
                       {"ATES_SCHEDULE_FIRST_BUSINESS_DATE", first_date},
                       {"ATES_SCHEDULE_NOW_OVERRIDE", now},
                       {"ATES_SCHEDULE_CHECK_INTERVAL", "1s"},
                       {"ATES_SCHEDULE_MAX_CLOCK_SKEW", "1000000h"}},
                      env);
}

}  // namespace ates::test
