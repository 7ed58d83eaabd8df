#include "ates/contracts/upcasters.hpp"

#include <google/protobuf/message.h>

namespace ates::contracts {
namespace {

std::unique_ptr<google::protobuf::Message> TaskCreatedV1ToV2(const google::protobuf::Message& m) {
  return std::make_unique<events::tasks::v2::TaskCreated>(
      UpcastTaskCreated(static_cast<const events::tasks::v1::TaskCreated&>(m)));
}

}  // namespace

const std::vector<Upcaster>& Upcasters() {
  static const std::vector<Upcaster> upcasters{
      {events::tasks::v1::TaskCreated::descriptor(), events::tasks::v2::TaskCreated::descriptor(),
       &TaskCreatedV1ToV2},
  };
  return upcasters;
}

events::tasks::v2::TaskCreated UpcastTaskCreated(const events::tasks::v1::TaskCreated& v1) {
  events::tasks::v2::TaskCreated v2;
  v2.set_task_id(v1.task_id());
  auto [jira_id, title] = SplitLegacyTitle(v1.title());
  v2.set_title(title);
  v2.set_jira_id(jira_id);
  v2.set_description(v1.description());
  v2.set_created_by(v1.created_by());
  v2.set_assignee_id(v1.assignee_id());
  v2.set_version(v1.version());
  *v2.mutable_created_at() = v1.created_at();
  return v2;
}

std::pair<std::string, std::string> SplitLegacyTitle(std::string_view title) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  auto trim = [&](std::string_view s) {
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
  };
  // v2 titles never contain '[' or ']': stray brackets become parentheses.
  auto unbracket = [](std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
      if (c == '[') c = '(';
      if (c == ']') c = ')';
    }
    return out;
  };
  std::string_view t = trim(title);
  if (t.size() > 2 && t.front() == '[') {
    auto close = t.find(']');
    if (close != std::string_view::npos && close > 1) {
      auto key = trim(t.substr(1, close - 1));
      auto rest = trim(t.substr(close + 1));
      if (!key.empty() && key.find('[') == std::string_view::npos) {
        return {std::string(key), unbracket(rest)};
      }
    }
  }
  // No leading key: the whole title stays; brackets elsewhere become parentheses
  // so the v2 rule (no '[' or ']') holds.
  return {"", unbracket(t)};
}

}  // namespace ates::contracts
