#include "ates/platform/tls.hpp"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <stdexcept>

#include "ates/platform/log.hpp"

namespace ates::platform {
namespace {

// A readable PEM file, or ConfigError naming the config key.
void CheckPemFile(const std::string& key, const std::string& path) {
  if (path.empty()) return;
  try {
    ReadPemFile(path, "TLS");
  } catch (const std::runtime_error& e) {
    throw ConfigError("config key '" + key + "': " + e.what());
  }
}

}  // namespace

ServerTls ReadServerTls(Config& config) {
  ServerTls tls;
  tls.cert = config.GetString("grpc.tls.cert", "");
  tls.key = config.GetString("grpc.tls.key", "");
  tls.client_ca = config.GetString("grpc.tls.client_ca", "");
  auto interval = config.GetDuration("grpc.tls.reload_interval", std::chrono::seconds(10));
  if (tls.cert.empty() != tls.key.empty()) {
    throw ConfigError(
        "config keys 'grpc.tls.cert' and 'grpc.tls.key' go together: set both or"
        " neither");
  }
  if (!tls.client_ca.empty() && tls.cert.empty()) {
    throw ConfigError("config key 'grpc.tls.client_ca' needs 'grpc.tls.cert' and 'grpc.tls.key'");
  }
  if (interval < std::chrono::seconds(1)) {
    throw ConfigError("config key 'grpc.tls.reload_interval' must be at least 1s");
  }
  tls.reload_interval = std::chrono::duration_cast<std::chrono::seconds>(interval);
  CheckPemFile("grpc.tls.cert", tls.cert);
  CheckPemFile("grpc.tls.key", tls.key);
  CheckPemFile("grpc.tls.client_ca", tls.client_ca);
  return tls;
}

ClientTls ReadClientTls(Config& config, const std::string& prefix) {
  ClientTls tls;
  tls.ca = config.GetString(prefix + ".ca", "");
  tls.cert = config.GetString(prefix + ".cert", "");
  tls.key = config.GetString(prefix + ".key", "");
  tls.server_name = config.GetString(prefix + ".server_name", "");
  if (tls.cert.empty() != tls.key.empty()) {
    throw ConfigError("config keys '" + prefix + ".cert' and '" + prefix +
                      ".key' go together: set both or neither");
  }
  if (!tls.cert.empty() && tls.ca.empty()) {
    throw ConfigError("config key '" + prefix + ".cert' needs '" + prefix +
                      ".ca' (the CA that verifies the server)");
  }
  CheckPemFile(prefix + ".ca", tls.ca);
  CheckPemFile(prefix + ".cert", tls.cert);
  CheckPemFile(prefix + ".key", tls.key);
  return tls;
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const ServerTls& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  auto interval = static_cast<unsigned int>(tls.reload_interval.count());
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key, tls.cert, tls.client_ca, interval);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (tls.client_ca.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  log::Info("gRPC serves TLS", {{"cert", tls.cert},
                                {"client_certificates", tls.client_ca.empty() ? "no" : "required"},
                                {"reload_interval_s", std::to_string(interval)}});
  return grpc::experimental::TlsServerCredentials(options);
}

}  // namespace ates::platform
