#pragma once

// Issue 11 item 4: "shuffle click -> every fee posted" as one figure. N open
// tasks are put in ates-tasks' table directly (as bench_services' shuffle
// benchmark does: the columns CreateTask writes), then a manager's
// ShuffleTasks; the clock runs from the call until the watcher has seen as
// many billing.transaction.applied ASSIGN_FEE events as the reply reassigned.

#include <cstdint>
#include <string>

#include "billing_watch.hpp"
#include "load.hpp"

namespace ates::bench::system {

struct BigShuffle {
  int64_t tasks = 0;       // reassigned by the call
  double reply_s = -1;     // click -> ShuffleTasks' reply (committed)
  double all_fees_s = -1;  // click -> the last of its fees seen applied
  int64_t fees_seen = 0;
};

BigShuffle RunBigShuffle(const std::string& tasks_pg_url, int64_t tasks, Load& load,
                         BillingWatch& watch);

}  // namespace ates::bench::system
