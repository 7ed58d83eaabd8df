#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "ates/platform/config_schema.hpp"

namespace ates::gateway {

// gateway.*: the HTTP listener, the web app's folder, request limits and the
// five upstream daemons (ADR 0024).
struct GatewaySettings {
  std::string listen;
  std::string web_root;
  int64_t max_body_bytes = 0;
  std::chrono::milliseconds default_timeout{0};
  std::chrono::milliseconds max_timeout{0};
  int http_threads = 0;
  std::string tls_cert;  // PEM with certificate chain and private key; "": plain HTTP
  std::string auth_upstream;
  std::string tasks_upstream;
  std::string billing_upstream;
  std::string analytics_upstream;
  std::string scheduler_upstream;

  bool serves_tls() const { return !tls_cert.empty(); }
  static const platform::ConfigSchema<GatewaySettings>& Schema();
};

}  // namespace ates::gateway
