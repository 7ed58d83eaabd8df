#pragma once

#include <cstdint>
#include <mutex>
#include <random>
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

// Uniform, unbiased choice of an index in [0, n) (no `rand() % n`), seedable
// so tests can repeat a sequence. Thread-safe.
class RandomPicker final {
 public:
  RandomPicker();                        // seeded from std::random_device
  explicit RandomPicker(uint64_t seed);  // repeatable
  size_t Pick(size_t n);
  double Unit();  // uniform in [0, 1)

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
};

}  // namespace ates::tasks
