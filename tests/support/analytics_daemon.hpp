#pragma once
// The real ates-analytics daemon for e2e and integration tests, and what it
// takes to tell that it has caught up and to compare two read models.

#include <map>
#include <string>
#include <vector>

#include "ates/analytics/v1/analytics_service.grpc.pb.h"
#include "ates/platform/pg.hpp"
#include "support/daemon.hpp"
#include "support/js_client.hpp"
#include "support/test_stack.hpp"

#ifndef ATES_ANALYTICS_BIN
#error "ATES_ANALYTICS_BIN must be defined by the build"
#endif

namespace ates::test {

namespace anv1 = ::ates::analytics::v1;

// ates-analytics on `db`; `durable_prefix` names its three durable consumers
// (<prefix>_tasks, <prefix>_billing, <prefix>_schedule): a fresh prefix
// replays every stream from the start.
inline DaemonOptions AnalyticsDaemon(const std::string& name, const std::string& db,
                                     const std::string& auth_target,
                                     const std::string& durable_prefix = "analytics",
                                     std::map<std::string, std::string> env = {}) {
  return SystemDaemon(name, "ates-analytics", ATES_ANALYTICS_BIN, db,
                      {{"ATES_AUTH_KEYS_URL", auth_target},
                       {"ATES_CONSUMERS_TASKS_DURABLE", durable_prefix + "_tasks"},
                       {"ATES_CONSUMERS_BILLING_DURABLE", durable_prefix + "_billing"},
                       {"ATES_CONSUMERS_SCHEDULE_DURABLE", durable_prefix + "_schedule"}},
                      env);
}

// True when the three consumers of an analytics daemon have nothing pending
// or unacknowledged (everything delivered was applied and acked).
inline bool AnalyticsCaughtUp(JsClient& js, const std::string& durable_prefix = "analytics") {
  for (const auto& [stream, suffix] : std::vector<std::pair<std::string, std::string>>{
           {"TASKS", "_tasks"}, {"BILLING", "_billing"}, {"SCHEDULE", "_schedule"}}) {
    auto st = js.Consumer(stream, durable_prefix + suffix);
    if (!st || st->num_pending != 0 || st->num_ack_pending != 0) return false;
  }
  return true;
}

// The whole read model of an analytics database as text, row by row in key
// order: two databases built from the same events must give the same dump.
inline std::vector<std::string> DumpReadModel(const std::string& db_url) {
  pg::Connection c(db_url);
  std::vector<std::string> rows;
  for (const char* sql :
       {"SELECT 'task', task_id::text, COALESCE(title, '<null>'), COALESCE(jira_id, '<null>'),"
        " COALESCE(fee_cents::text, '<null>'), COALESCE(reward_cents::text, '<null>'),"
        " COALESCE(completed_at::text, '<null>'), COALESCE(completed_date::text, '<null>')"
        " FROM task_facts ORDER BY task_id",
        "SELECT 'day', business_date::text, fees_cents::text, rewards_cents::text, '', '', '', ''"
        " FROM day_earnings ORDER BY business_date",
        "SELECT 'account_day', account_id::text, business_date::text, amount_cents::text,"
        " '', '', '', '' FROM account_day_totals ORDER BY account_id, business_date"}) {
    auto r = c.Exec(sql);
    for (int i = 0; i < r.Rows(); ++i) {
      std::string row;
      for (int j = 0; j < 8; ++j) row += (j ? "|" : "") + r.String(i, j);
      rows.push_back(row);
    }
  }
  return rows;
}

}  // namespace ates::test
