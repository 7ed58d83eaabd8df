#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "ates/platform/config_schema.hpp"

namespace ates::platform {

// The keys every daemon has: listeners, database pool, NATS, outbox, inbox and
// token verification. A module's own keys come from its own schema.
struct RuntimeSettings {
  std::string log_level;
  std::string grpc_listen;
  std::string admin_listen;
  int64_t max_message_bytes = 0;
  std::chrono::milliseconds shutdown_grace{0};
  std::chrono::milliseconds drain_delay{0};

  std::string database_url;
  int pool_size = 0;
  std::chrono::milliseconds acquire_timeout{0};
  std::chrono::milliseconds connect_timeout{0};
  std::chrono::milliseconds statement_timeout{0};
  std::chrono::milliseconds lock_timeout{0};
  std::chrono::milliseconds idle_in_transaction_timeout{0};
  std::chrono::milliseconds keepalives_idle{0};
  std::chrono::milliseconds keepalives_interval{0};
  int keepalives_count = 0;
  std::chrono::milliseconds tcp_user_timeout{0};

  std::string nats_url;
  std::chrono::milliseconds duplicate_window{0};
  int stream_replicas = 1;
  std::chrono::milliseconds stream_max_age{0};
  int64_t stream_max_bytes = -1;

  int outbox_batch_size = 0;
  std::chrono::milliseconds outbox_poll_interval{0};
  std::chrono::milliseconds outbox_retention{0};
  std::chrono::milliseconds outbox_leader_timeout{0};
  std::chrono::milliseconds inbox_retention{0};

  std::string issuer;
  std::string audience;
  std::string keys_url;
  std::chrono::milliseconds keys_refresh{0};
  std::chrono::milliseconds retired_key_grace{0};

  // `stateless`: only the listener keys (Module::stateless()).
  static const ConfigSchema<RuntimeSettings>& Schema(bool stateless = false);
};

}  // namespace ates::platform
