// atesctl's TLS options (ADR 0014): --tls-* flags beat ATES_TLS_* variables;
// a client certificate needs its key and the CA.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "args.hpp"
#include "options.hpp"

namespace ates::ctl {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(AtesctlTls, PlaintextByDefault) {
  auto o = ResolveOptions(ParsedArgs(), Env({}));
  EXPECT_EQ(o.tls_ca, "");
  EXPECT_EQ(o.tls_cert, "");
}

TEST(AtesctlTls, FlagsBeatEnvironment) {
  ParsedArgs args;
  args.Set("tls-ca", "/flag/ca.pem");
  auto o = ResolveOptions(args, Env({{"ATES_TLS_CA", "/env/ca.pem"},
                                     {"ATES_TLS_CERT", "/env/c.pem"},
                                     {"ATES_TLS_KEY", "/env/c.key"},
                                     {"ATES_TLS_SERVER_NAME", "ates-auth"}}));
  EXPECT_EQ(o.tls_ca, "/flag/ca.pem");
  EXPECT_EQ(o.tls_cert, "/env/c.pem");
  EXPECT_EQ(o.tls_key, "/env/c.key");
  EXPECT_EQ(o.tls_server_name, "ates-auth");
}

TEST(AtesctlTls, ClientCertificateNeedsKeyAndCa) {
  ParsedArgs no_key;
  no_key.Set("tls-ca", "/ca.pem");
  no_key.Set("tls-cert", "/c.pem");
  EXPECT_THROW(ResolveOptions(no_key, Env({})), UsageError);
  ParsedArgs no_ca;
  no_ca.Set("tls-cert", "/c.pem");
  no_ca.Set("tls-key", "/c.key");
  EXPECT_THROW(ResolveOptions(no_ca, Env({})), UsageError);
}

TEST(AtesctlTls, FlagsAreListedInHelp) {
  std::vector<std::string> names;
  for (const auto& f : GlobalFlags()) names.push_back(f.name);
  EXPECT_THAT(names, ::testing::IsSupersetOf({"tls-ca", "tls-cert", "tls-key", "tls-server-name"}));
}

}  // namespace
}  // namespace ates::ctl
