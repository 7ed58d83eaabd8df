#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>

namespace ates::platform {

// Thrown for a missing or malformed value or an unknown key; daemons exit 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// YAML configuration flattened to dotted keys ("database.url"). Each key can be
// overridden by an environment variable ATES_<KEY> with dots as underscores
// (ATES_DATABASE_URL). Every key read is remembered so that keys nobody asked
// for can be reported as unknown once all parts are built.
class Config final {
 public:
  static Config FromFile(const std::string& path);
  static Config FromString(const std::string& yaml);

  std::string GetString(const std::string& key);
  std::string GetString(const std::string& key, const std::string& fallback);
  int64_t GetInt(const std::string& key);
  int64_t GetInt(const std::string& key, int64_t fallback);
  bool GetBool(const std::string& key);
  bool GetBool(const std::string& key, bool fallback);
  std::chrono::milliseconds GetDuration(const std::string& key);  // "250ms", "5s", "2m", "1h"
  std::chrono::milliseconds GetDuration(const std::string& key, std::chrono::milliseconds fallback);

  // Throws ConfigError naming every key in the file that no part has read.
  void CheckNoUnknownKeys() const;

  static std::string EnvName(const std::string& key);

 private:
  std::optional<std::string> Lookup(const std::string& key);

  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
};

std::chrono::milliseconds ParseDuration(const std::string& text);

}  // namespace ates::platform
