#include "banner.hpp"

#include <cstdio>
#include <filesystem>

namespace ates::devstack {
namespace {

void Line(const std::string& text) { std::fprintf(stderr, "%s\n", text.c_str()); }

// atesctl's addresses when a port differs from its default (127.0.0.1:5005x).
std::string AddressExports(const Settings& s) {
  std::string out;
  int offset = 0;
  for (const auto& svc : s.services) {
    if (svc.grpc_port != 50051 + offset++ || s.bind != "127.0.0.1") {
      std::string up;
      for (char c : svc.name) up.push_back(static_cast<char>(std::toupper(c)));
      std::string host = s.bind == "0.0.0.0" ? "127.0.0.1" : s.bind;
      out += " ATES_" + up + "_ADDR=" + host + ":" + std::to_string(svc.grpc_port);
    }
  }
  return out.empty() ? "" : "    export" + out + "\n";
}

void PrintLogin(const Settings& s, const Secrets& secrets) {
  const std::string body =
      "{\"login\":\"" + s.admin_login + "\",\"password\":\"" + secrets.admin_password + "\"}";
  const std::string auth = "127.0.0.1:" + std::to_string(s.services.front().grpc_port);
  std::string out = "\n  Log in:\n" + AddressExports(s);
  if (s.tls) {
    std::string t = s.Short(s.tls_dir());
    std::string files = t + "/ca.pem --cert " + t + "/atesctl.pem --key " + t + "/atesctl.key";
    if (!s.atesctl.empty()) {
      out += "    export ATES_TLS_CA=" + t + "/ca.pem ATES_TLS_CERT=" + t +
             "/atesctl.pem ATES_TLS_KEY=" + t + "/atesctl.key\n";
      out += "    " + s.Short(s.atesctl) + " login --user " + s.admin_login +
             "   (or the flags --tls-ca/--tls-cert/--tls-key)\n";
    }
    out += "    node_modules/.bin/buf curl --protocol grpc --cacert " + files + " -d '" + body +
           "' https://" + auth + "/ates.auth.v1.AuthService/Login\n";
    out += "    grpcurl -cacert " + t + "/ca.pem -cert " + t + "/atesctl.pem -key " + t +
           "/atesctl.key -d '" + body + "' " + auth + " ates.auth.v1.AuthService/Login\n";
  } else {
    if (!s.atesctl.empty())
      out += "    " + s.Short(s.atesctl) + " login --user " + s.admin_login + "\n";
    out += "    node_modules/.bin/buf curl --protocol grpc --http2-prior-knowledge -d '" + body +
           "' http://" + auth + "/ates.auth.v1.AuthService/Login\n";
  }
  std::fputs(out.c_str(), stderr);
}

void PrintServices(const Settings& s) {
  for (const auto& svc : s.services) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-15s gRPC %s:%-6d metrics %s:%-5d %s",
                  svc.program().c_str(), s.bind.c_str(), svc.grpc_port, s.bind.c_str(),
                  svc.metrics_port, svc.binary.empty() ? "not built" : "running");
    Line(line);
  }
}

void PrintWebApp(const Settings& s) {
  if (s.gateway.binary.empty()) {
    Line("  ates-gateway    not built: no web app");
    return;
  }
  std::string host = s.bind == "0.0.0.0" ? "127.0.0.1" : s.bind;
  Line("");
  Line("  Web app:        http://" + host + ":" + std::to_string(s.gateway_http_port) +
       "/   (log in as the admin below; Connect API on the same address)");
  if (!std::filesystem::exists(s.web_root + "/index.html")) {
    Line("                  " + s.Short(s.web_root) +
         " has no index.html yet: build the web app first");
  }
}

}  // namespace

void PrintBanner(const Settings& s, const Secrets& secrets, const std::string& pg_data) {
  const std::string pg = std::to_string(s.pg_port), nats = std::to_string(s.nats_port);
  Line("");
  Line("================================ aTES is running ================================");
  Line("  PostgreSQL   127.0.0.1:" + pg + "  (user postgres, no password; data " + pg_data + ")");
  Line("  NATS         nats://127.0.0.1:" + nats + "  (JetStream, data " + s.run_dir + "/nats)");
  Line("               one user per daemon (ADR 15), passwords in " + s.nats_password_dir() + "/");
  Line(s.tls ? "  gRPC TLS     CA " + s.tls_dir() +
                   "/ca.pem; ates-auth requires client certificates (mTLS)"
             : "  gRPC         plaintext (ATES_RUN_TLS=1 for TLS)");
  PrintServices(s);
  PrintWebApp(s);
  Line("");
  Line("  admin login:    " + s.admin_login);
  Line("  admin password: " + secrets.admin_password + "   (stored in " + s.run_dir +
       "/admin-password)");
  Line("  (the admin is created only when that login does not exist yet; later password");
  Line("   changes are not reflected here)");
  bool auth_built = !s.services.front().binary.empty();
  if (auth_built) PrintLogin(s, secrets);
  std::string missing;
  for (const auto& svc : s.services) {
    if (svc.binary.empty()) missing += " " + svc.program();
  }
  if (!missing.empty()) {
    Line("");
    Line("  Not built (skipped):" + missing + "  (looked in " + s.Short(s.build_dir) + "/bin and " +
         s.Short(s.build_dir) + "/cmd; run 'make build')");
  }
  Line("");
  Line("  Logs: " + s.log_dir() + "/   Ctrl-C stops everything; data stays in " + s.run_dir + ".");
  Line("==================================================================================");
  Line("");
}

}  // namespace ates::devstack
