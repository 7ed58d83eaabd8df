// grpc.tls.* and auth.tls.* are checked at start (ADR 0014): a half-set pair,
// a client CA without a server certificate, an unreadable file or a too short
// reload interval is a ConfigError naming the key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ates/platform/tls.hpp"

namespace ates::platform {
namespace {

using ::testing::HasSubstr;

std::string ConfigErrorOf(const std::string& yaml, bool server) {
  auto config = Config::FromString(yaml);
  try {
    if (server) {
      ReadServerTls(config);
    } else {
      ReadClientTls(config, "auth.tls");
    }
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(TlsConfig, EmptyKeysMeanPlaintext) {
  auto config = Config::FromString(R"(
grpc: {tls: {cert: "", key: "", client_ca: "", reload_interval: 10s}}
auth: {tls: {ca: "", cert: "", key: "", server_name: ""}}
)");
  EXPECT_FALSE(ReadServerTls(config).enabled());
  EXPECT_FALSE(ReadClientTls(config, "auth.tls").enabled());
  EXPECT_NO_THROW(config.CheckNoUnknownKeys());
}

TEST(TlsConfig, ServerCertificateAndKeyGoTogether) {
  EXPECT_THAT(ConfigErrorOf("grpc: {tls: {cert: /x.pem}}", true),
              HasSubstr("'grpc.tls.cert' and 'grpc.tls.key' go together"));
  EXPECT_THAT(ConfigErrorOf("grpc: {tls: {key: /x.key}}", true),
              HasSubstr("'grpc.tls.cert' and 'grpc.tls.key' go together"));
}

TEST(TlsConfig, ClientCaNeedsAServerCertificate) {
  EXPECT_THAT(ConfigErrorOf("grpc: {tls: {client_ca: /ca.pem}}", true),
              HasSubstr("'grpc.tls.client_ca' needs 'grpc.tls.cert'"));
}

TEST(TlsConfig, UnreadableFileNamesItsKey) {
  EXPECT_THAT(
      ConfigErrorOf("grpc: {tls: {cert: /nonexistent/a.pem, key: /nonexistent/a.key}}", true),
      HasSubstr("config key 'grpc.tls.cert': cannot read TLS file '/nonexistent/a.pem'"));
  EXPECT_THAT(ConfigErrorOf("auth: {tls: {ca: /nonexistent/ca.pem}}", false),
              HasSubstr("config key 'auth.tls.ca'"));
}

TEST(TlsConfig, ReloadIntervalIsAtLeastOneSecond) {
  EXPECT_THAT(ConfigErrorOf("grpc: {tls: {reload_interval: 500ms}}", true),
              HasSubstr("'grpc.tls.reload_interval' must be at least 1s"));
}

TEST(TlsConfig, ClientCertificateNeedsKeyAndCa) {
  EXPECT_THAT(ConfigErrorOf("auth: {tls: {ca: /ca.pem, cert: /c.pem}}", false),
              HasSubstr("'auth.tls.cert' and 'auth.tls.key' go together"));
  EXPECT_THAT(ConfigErrorOf("auth: {tls: {cert: /c.pem, key: /c.key}}", false),
              HasSubstr("'auth.tls.cert' needs 'auth.tls.ca'"));
}

}  // namespace
}  // namespace ates::platform
