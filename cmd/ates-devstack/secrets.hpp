#pragma once

#include <map>
#include <string>

#include "settings.hpp"

namespace ates::devstack {

// The secrets of a local stack, generated once into the data folder (0600) and
// reused by every later start.
struct Secrets {
  std::string admin_password;      // ATES_ADMIN_PASSWORD, else DIR/admin-password
  std::string key_encryption_key;  // ATES_AUTH_KEY_ENCRYPTION_KEY, else DIR/auth-key-encryption-key
                                   // (ADR 16)
  std::map<std::string, std::string>
      nats_passwords;  // "ates-tasks" -> DIR/nats-passwords/ates-tasks (ADR 15)
};

Secrets LoadSecrets(const Settings& settings);

}  // namespace ates::devstack
