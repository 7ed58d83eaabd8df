#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "ates/platform/config.hpp"

namespace ates::platform {

// One documented config key, as `--print-config` lists it.
struct ConfigKey {
  std::string key;
  std::string type;                          // string, int, bool or duration
  std::optional<std::string> default_value;  // none: required
  std::string help;
};

// Reads one key as V (std::string, int64_t, int, bool or milliseconds), with
// the default written as it would be in the YAML file ("10s", "0", "true").
template <class V>
V ReadConfigValue(Config& config, const std::string& key, const std::optional<std::string>& def);
template <class V>
const char* ConfigTypeName();
#define ATES_CONFIG_VALUE_TYPE(V)                               \
  template <>                                                   \
  V ReadConfigValue<V>(Config & config, const std::string& key, \
                       const std::optional<std::string>& def);  \
  template <>                                                   \
  const char* ConfigTypeName<V>();
ATES_CONFIG_VALUE_TYPE(std::string)
ATES_CONFIG_VALUE_TYPE(int64_t)
ATES_CONFIG_VALUE_TYPE(int)
ATES_CONFIG_VALUE_TYPE(bool)
ATES_CONFIG_VALUE_TYPE(std::chrono::milliseconds)
#undef ATES_CONFIG_VALUE_TYPE

// A typed config section: each key with its type, default and help text in one
// place, read into the fields of `T`. Reading marks the keys used, so keys no
// part declares are still rejected as unknown; ATES_<KEY> overrides apply.
//
//   static const ConfigSchema<TasksSettings> kSchema = ConfigSchema<TasksSettings>()
//       .Key("tasks.random_seed", &TasksSettings::random_seed, "0", "0: truly random");
template <class T>
class ConfigSchema final {
 public:
  template <class V>
  ConfigSchema&& Key(std::string key, V T::*field, std::string default_value, std::string help) && {
    Add(std::move(key), field, std::move(default_value), std::move(help));
    return std::move(*this);
  }
  template <class V>
  ConfigSchema&& Required(std::string key, V T::*field, std::string help) && {
    Add(std::move(key), field, std::nullopt, std::move(help));
    return std::move(*this);
  }
  // A key read by a helper of its own (TLS files, NATS credentials): listed only.
  ConfigSchema&& Listed(ConfigKey key) && {
    keys_.push_back(std::move(key));
    return std::move(*this);
  }

  T Read(Config& config) const {
    T out{};
    for (const auto& read : readers_) read(config, out);
    return out;
  }
  const std::vector<ConfigKey>& keys() const { return keys_; }

 private:
  template <class V>
  void Add(std::string key, V T::*field, std::optional<std::string> def, std::string help) {
    keys_.push_back(ConfigKey{key, ConfigTypeName<V>(), def, std::move(help)});
    readers_.push_back([key, field, def](Config& config, T& out) {
      out.*field = ReadConfigValue<V>(config, key, def);
    });
  }

  std::vector<ConfigKey> keys_;
  std::vector<std::function<void(Config&, T&)>> readers_;
};

// The keys of one consumer "consumers.<key>.{durable,batch_size,max_deliver}".
struct ConsumerSettings {
  std::string durable;
  int batch_size = 0;
  int max_deliver = 0;
};
ConfigSchema<ConsumerSettings> ConsumerSchema(const std::string& key);
// `keys` followed by those of the consumers named `consumers`.
std::vector<ConfigKey> WithConsumerKeys(std::vector<ConfigKey> keys,
                                        std::initializer_list<const char*> consumers);

// Lists keys with type, default and help, one per line (for --print-config).
std::string FormatConfigKeys(const std::vector<ConfigKey>& keys);

}  // namespace ates::platform
