#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ates::tasks {

inline constexpr size_t kMaxTitle = 200;
inline constexpr size_t kMaxJiraId = 32;
inline constexpr size_t kMaxDescription = 10000;
inline constexpr size_t kMaxRequestId = 128;

struct NewTask {
  std::string title;
  std::string jira_id;
  std::string description;
  std::string request_id;
};

// INVALID_ARGUMENT naming each bad field: title 1-200 characters without '['
// or ']'; jira_id empty or like "UP-42"; description <= 10000; request_id <= 128.
void Validate(const NewTask& task);
bool IsValidJiraId(std::string_view jira_id);

}  // namespace ates::tasks
