#include "task_rules.hpp"

#include <cctype>

#include "ates/platform/error.hpp"

namespace ates::tasks {

bool IsValidJiraId(std::string_view id) {
  if (id.empty()) return true;
  if (id.size() > kMaxJiraId) return false;
  auto dash = id.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= id.size()) return false;
  if (!std::isupper(static_cast<unsigned char>(id[0]))) return false;
  for (size_t i = 0; i < dash; ++i) {
    auto c = static_cast<unsigned char>(id[i]);
    if (!std::isupper(c) && !std::isdigit(c)) return false;
  }
  for (size_t i = dash + 1; i < id.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(id[i]))) return false;
  }
  return true;
}

namespace {

// Characters (code points) of UTF-8 text: every byte but continuation bytes.
size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

void Validate(const NewTask& t) {
  Validator v;
  bool title_has_text = t.title.find_first_not_of(" \t") != std::string::npos;
  v.Check(title_has_text, "title", "required");
  v.Check(Utf8Length(t.title) <= kMaxTitle, "title", "at most 200 characters");
  v.Check(t.title.find_first_of("[]") == std::string::npos, "title",
          "must not contain '[' or ']': put the issue key in jira_id");
  bool control = false;
  for (unsigned char c : t.title) control |= (c < 0x20 || c == 0x7f);
  v.Check(!control, "title", "must not contain control characters");
  v.Check(IsValidJiraId(t.jira_id), "jira_id",
          "empty, or a project key and a number such as UP-42 (at most 32 characters)");
  v.Check(Utf8Length(t.description) <= kMaxDescription, "description", "at most 10000 characters");
  v.Check(t.request_id.size() <= kMaxRequestId, "request_id", "at most 128 characters");
  v.ThrowIfInvalid();
}

}  // namespace ates::tasks
