#include <array>
#include <string_view>

#include "ates/common/v1/role.pb.h"
#include "commands.hpp"
#include "format.hpp"

namespace ates::ctl {
namespace {

struct RoleName {
  std::string_view name;
  common::v1::Role role;
};

constexpr std::array<RoleName, 4> kRoles = {{
    {"worker", common::v1::ROLE_WORKER},
    {"manager", common::v1::ROLE_MANAGER},
    {"accountant", common::v1::ROLE_ACCOUNTANT},
    {"admin", common::v1::ROLE_ADMIN},
}};

}  // namespace

FlagSpec LimitFlag() { return {"limit", '\0', "N", "stop after N items (default: all pages)"}; }
FlagSpec FromFlag() { return {"from", '\0', "DATE", "first day, YYYY-MM-DD (with --to)"}; }
FlagSpec ToFlag() { return {"to", '\0', "DATE", "last day, YYYY-MM-DD, inclusive (with --from)"}; }

DateRange RangeOf(const ParsedArgs& args) {
  auto from = args.Find("from");
  auto to = args.Find("to");
  if (from.has_value() != to.has_value()) throw UsageError("--from and --to go together");
  if (!from) return {};
  return {CheckDate("--from", *from), CheckDate("--to", *to)};
}

int ParseRole(const std::string& flag, const std::string& text) {
  for (const auto& r : kRoles) {
    if (r.name == text) return r.role;
  }
  OneOf(flag, text, {"worker", "manager", "accountant", "admin"});  // Throws.
  return common::v1::ROLE_UNSPECIFIED;
}

std::string RoleName(int role) {
  for (const auto& r : kRoles) {
    if (r.role == role) return std::string(r.name);
  }
  return "unspecified";
}

}  // namespace ates::ctl
