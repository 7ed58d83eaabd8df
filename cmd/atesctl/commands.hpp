#pragma once

// The atesctl command table: every leaf command's spec and handler, grouped by
// the daemon it talks to.

#include <functional>
#include <vector>

#include "args.hpp"
#include "session.hpp"

namespace ates::ctl {

struct Command {
  CommandSpec spec;
  // Returns the exit code; failures throw CliError or UsageError.
  std::function<int(Session&, const ParsedArgs&)> run;
};

// login, logout, whoami, accounts create|list|get|update|reset-password, keys rotate.
std::vector<Command> AuthCommands();
// tasks create|list|get|complete|shuffle.
std::vector<Command> TaskCommands();
// billing balance|transactions|earnings|payouts.
std::vector<Command> BillingCommands();
// analytics summary|most-expensive|earnings, day close|list.
std::vector<Command> ReportCommands();
// dlq list|replay.
std::vector<Command> OpsCommands();
// audit reconcile (BillingService.ReconcileDay).
std::vector<Command> AuditCommands();
// health SERVICE (grpc.health.v1).
std::vector<Command> HealthCommands();

// Shared flag specs.
FlagSpec LimitFlag();
FlagSpec FromFlag();
FlagSpec ToFlag();

// --from/--to as a pair (both or neither); UsageError otherwise.
struct DateRange {
  std::string from;
  std::string to;
};
DateRange RangeOf(const ParsedArgs& args);

// Role names on the command line <-> ates.common.v1.Role values (as int so
// this header stays free of generated code).
int ParseRole(const std::string& flag, const std::string& text);
std::string RoleName(int role);

}  // namespace ates::ctl
