#pragma once

// TLS of a daemon's gRPC server and of its calls to ates-auth, from config
// (ADR 0014). Certificates are read by gRPC's file watcher, so replaced files
// are served without a restart.

#include <grpcpp/security/server_credentials.h>

#include <chrono>
#include <memory>
#include <string>

#include "ates/platform/config.hpp"
#include "ates/platform/tls_channel.hpp"

namespace ates::platform {

// PEM file paths of a server; an empty `cert` means plaintext.
struct ServerTls {
  std::string cert;       // certificate chain served to clients
  std::string key;        // its private key
  std::string client_ca;  // when set, clients must present a certificate signed by it (mTLS)
  std::chrono::seconds reload_interval{10};  // how often the files are checked for changes

  bool enabled() const { return !cert.empty(); }
};

// grpc.tls.{cert,key,client_ca,reload_interval}. ConfigError for a key
// without certificate (or the reverse), a client CA without a certificate, a
// file that cannot be read or holds no PEM, an interval under 1s.
ServerTls ReadServerTls(Config& config);

// <prefix>.{ca,cert,key,server_name}, e.g. prefix "auth.tls"; ConfigError as above.
ClientTls ReadClientTls(Config& config, const std::string& prefix);

// Insecure credentials when !tls.enabled(); else TLS from a file watcher,
// requiring and verifying client certificates when tls.client_ca is set.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const ServerTls& tls);

}  // namespace ates::platform
