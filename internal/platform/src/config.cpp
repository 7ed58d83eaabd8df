#include "ates/platform/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace ates::platform {
namespace {

void Flatten(const YAML::Node& node, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      auto key = kv.first.as<std::string>();
      Flatten(kv.second, prefix.empty() ? key : prefix + "." + key, out);
    }
  } else if (node.IsSequence()) {
    std::string joined;
    for (size_t i = 0; i < node.size(); ++i) {
      if (i) joined += ",";
      joined += node[i].as<std::string>();
    }
    out[prefix] = joined;
  } else if (node.IsScalar()) {
    out[prefix] = node.as<std::string>();
  } else if (node.IsNull() && !prefix.empty()) {
    out[prefix] = "";
  }
}

}  // namespace

std::chrono::milliseconds ParseDuration(const std::string& text) {
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (...) {
    throw ConfigError("not a duration: '" + text + "' (use e.g. 250ms, 5s, 2m, 1h, 14d)");
  }
  std::string unit = text.substr(pos);
  double ms;
  if (unit == "ms") {
    ms = value;
  } else if (unit == "s" || unit.empty()) {
    ms = value * 1000;
  } else if (unit == "m") {
    ms = value * 60'000;
  } else if (unit == "h") {
    ms = value * 3'600'000;
  } else if (unit == "d") {
    ms = value * 86'400'000;
  } else {
    throw ConfigError("not a duration: '" + text + "' (use e.g. 250ms, 5s, 2m, 1h, 14d)");
  }
  if (ms < 0) throw ConfigError("negative duration: '" + text + "'");
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

Config Config::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return FromString(buffer.str());
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
}

Config Config::FromString(const std::string& yaml) {
  Config config;
  try {
    auto root = YAML::Load(yaml);
    if (root.IsDefined() && !root.IsNull()) {
      if (!root.IsMap()) throw ConfigError("top level must be a mapping");
      Flatten(root, "", config.values_);
    }
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string("invalid YAML: ") + e.what());
  }
  return config;
}

std::string Config::EnvName(const std::string& key) {
  std::string name = "ATES_";
  for (char c : key) {
    name.push_back(c == '.' || c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  }
  return name;
}

std::optional<std::string> Config::Lookup(const std::string& key) {
  used_.insert(key);
  if (const char* env = std::getenv(EnvName(key).c_str())) return std::string(env);
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Config::GetString(const std::string& key) {
  auto value = Lookup(key);
  if (!value) {
    throw ConfigError("missing value for config key '" + key + "' (set it in the file or " +
                      EnvName(key) + ")");
  }
  return *value;
}

std::string Config::GetString(const std::string& key, const std::string& fallback) {
  return Lookup(key).value_or(fallback);
}

namespace {
int64_t ParseInt(const std::string& key, const std::string& text) {
  try {
    size_t pos = 0;
    int64_t v = std::stoll(text, &pos);
    if (pos != text.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (...) {
    throw ConfigError("config key '" + key + "' must be an integer, got '" + text + "'");
  }
}
bool ParseBool(const std::string& key, const std::string& text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  throw ConfigError("config key '" + key + "' must be true or false, got '" + text + "'");
}
}  // namespace

int64_t Config::GetInt(const std::string& key) { return ParseInt(key, GetString(key)); }
int64_t Config::GetInt(const std::string& key, int64_t fallback) {
  auto v = Lookup(key);
  return v ? ParseInt(key, *v) : fallback;
}
bool Config::GetBool(const std::string& key) { return ParseBool(key, GetString(key)); }
bool Config::GetBool(const std::string& key, bool fallback) {
  auto v = Lookup(key);
  return v ? ParseBool(key, *v) : fallback;
}
std::chrono::milliseconds Config::GetDuration(const std::string& key) {
  try {
    return ParseDuration(GetString(key));
  } catch (const ConfigError& e) {
    throw ConfigError("config key '" + key + "': " + e.what());
  }
}
std::chrono::milliseconds Config::GetDuration(const std::string& key,
                                              std::chrono::milliseconds fallback) {
  auto v = Lookup(key);
  if (!v) return fallback;
  try {
    return ParseDuration(*v);
  } catch (const ConfigError& e) {
    throw ConfigError("config key '" + key + "': " + e.what());
  }
}

void Config::CheckNoUnknownKeys() const {
  std::string unknown;
  for (const auto& [key, value] : values_) {
    if (used_.count(key)) continue;
    if (!unknown.empty()) unknown += ", ";
    unknown += "'" + key + "'";
  }
  if (!unknown.empty()) throw ConfigError("unknown config key(s): " + unknown);
}

}  // namespace ates::platform
