#include "ates/platform/config_schema.hpp"

#include <algorithm>

namespace ates::platform {

template <>
std::string ReadConfigValue<std::string>(Config& config, const std::string& key,
                                         const std::optional<std::string>& def) {
  return def ? config.GetString(key, *def) : config.GetString(key);
}

template <>
int64_t ReadConfigValue<int64_t>(Config& config, const std::string& key,
                                 const std::optional<std::string>& def) {
  return def ? config.GetInt(key, std::stoll(*def)) : config.GetInt(key);
}

template <>
int ReadConfigValue<int>(Config& config, const std::string& key,
                         const std::optional<std::string>& def) {
  return static_cast<int>(ReadConfigValue<int64_t>(config, key, def));
}

template <>
bool ReadConfigValue<bool>(Config& config, const std::string& key,
                           const std::optional<std::string>& def) {
  return def ? config.GetBool(key, *def == "true") : config.GetBool(key);
}

template <>
std::chrono::milliseconds ReadConfigValue<std::chrono::milliseconds>(
    Config& config, const std::string& key, const std::optional<std::string>& def) {
  return def ? config.GetDuration(key, ParseDuration(*def)) : config.GetDuration(key);
}

template <>
const char* ConfigTypeName<std::string>() {
  return "string";
}
template <>
const char* ConfigTypeName<int64_t>() {
  return "int";
}
template <>
const char* ConfigTypeName<int>() {
  return "int";
}
template <>
const char* ConfigTypeName<bool>() {
  return "bool";
}
template <>
const char* ConfigTypeName<std::chrono::milliseconds>() {
  return "duration";
}

ConfigSchema<ConsumerSettings> ConsumerSchema(const std::string& key) {
  std::string prefix = "consumers." + key + ".";
  return ConfigSchema<ConsumerSettings>()
      .Required(prefix + "durable", &ConsumerSettings::durable,
                "durable JetStream consumer name (no dots)")
      .Required(prefix + "batch_size", &ConsumerSettings::batch_size,
                "events fetched and applied in one transaction")
      .Required(prefix + "max_deliver", &ConsumerSettings::max_deliver,
                "deliveries of a poison event before it is dead-lettered");
}

std::vector<ConfigKey> WithConsumerKeys(std::vector<ConfigKey> keys,
                                        std::initializer_list<const char*> consumers) {
  for (const char* name : consumers) {
    auto schema = ConsumerSchema(name);
    keys.insert(keys.end(), schema.keys().begin(), schema.keys().end());
  }
  return keys;
}

std::string FormatConfigKeys(const std::vector<ConfigKey>& keys) {
  std::vector<ConfigKey> sorted = keys;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const ConfigKey& a, const ConfigKey& b) { return a.key < b.key; });
  std::string out;
  for (const auto& k : sorted) {
    out += k.key + " (" + k.type + ", " +
           (k.default_value ? "default '" + *k.default_value + "'" : std::string("required")) +
           ", env " + Config::EnvName(k.key) + ")\n    " + k.help + "\n";
  }
  return out;
}

}  // namespace ates::platform
