#include "settings.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#ifndef ATES_SOURCE_DIR
#error "ATES_SOURCE_DIR must be defined by the build"
#endif

namespace ates::devstack {
namespace {

namespace fs = std::filesystem;

std::string Env(const std::string& name, const std::string& fallback = "") {
  const char* v = std::getenv(name.c_str());
  return v && *v ? v : fallback;
}

int EnvPort(const std::string& name, int fallback) {
  std::string v = Env(name);
  if (v.empty()) return fallback;
  size_t used = 0;
  int port = -1;
  try {
    port = std::stoi(v, &used);
  } catch (const std::exception&) {
  }
  if (used != v.size() || port <= 0 || port > 65535) {
    throw std::invalid_argument(name + " must be a port number, not '" + v + "'");
  }
  return port;
}

std::string Absolute(const std::string& root, const std::string& path) {
  return fs::path(path).is_absolute() ? path : (fs::path(root) / path).lexically_normal().string();
}

// build/bin/NAME, build/cmd/NAME/NAME or build/cmd/NAME, whichever exists.
std::string FindBinary(const std::string& build_dir, const std::string& name) {
  for (const auto& candidate : {build_dir + "/bin/" + name, build_dir + "/cmd/" + name + "/" + name,
                                build_dir + "/cmd/" + name}) {
    if (fs::is_regular_file(candidate) && access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// --pg-port=19432 -> ATES_RUN_PG_PORT=19432; the positional argument is the build folder.
std::string ApplyFlags(int argc, char** argv) {
  std::string build_dir;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(Usage(), stdout);
      std::exit(0);
    }
    auto eq = arg.find('=');
    if (!arg.starts_with("--") || eq == std::string::npos) {
      if (arg.starts_with("-") || !build_dir.empty()) {
        throw std::invalid_argument("unknown argument '" + arg + "' (see --help)");
      }
      build_dir = arg;
      continue;
    }
    std::string name = "ATES_RUN_";
    for (char c : arg.substr(2, eq - 2)) name.push_back(c == '-' ? '_' : std::toupper(c));
    setenv(name.c_str(), arg.substr(eq + 1).c_str(), 1);
  }
  return build_dir;
}

}  // namespace

std::string Settings::Short(const std::string& path) const {
  return path.starts_with(root + "/") ? path.substr(root.size() + 1) : path;
}

Settings LoadSettings(int argc, char** argv) {
  std::string build_arg = ApplyFlags(argc, argv);
  Settings s;
  s.root = ATES_SOURCE_DIR;
  s.build_dir = build_arg.empty()
                    ? fs::canonical("/proc/self/exe").parent_path().parent_path().string()
                    : Absolute(s.root, build_arg);
  s.run_dir = Absolute(s.root, Env("ATES_RUN_DIR", ".run"));
  s.config_dir = Absolute(s.root, Env("ATES_RUN_CONFIG_DIR", "config"));
  s.bind = Env("ATES_RUN_BIND", s.bind);
  s.pg_port = EnvPort("ATES_RUN_PG_PORT", s.pg_port);
  s.nats_port = EnvPort("ATES_RUN_NATS_PORT", s.nats_port);
  s.nats_monitor_port = EnvPort("ATES_RUN_NATS_MONITOR_PORT", 0);
  s.stop_timeout_s = EnvPort("ATES_RUN_STOP_TIMEOUT", s.stop_timeout_s);
  s.admin_login = Env("ATES_ADMIN_LOGIN", s.admin_login);
  s.pg_bin = Env("ATES_RUN_PG_BIN", s.pg_bin);
  std::string tls = Env("ATES_RUN_TLS", "0");
  if (tls != "0" && tls != "1") throw std::invalid_argument("ATES_RUN_TLS must be 0 or 1");
  s.tls = tls == "1";
  int offset = 0;
  for (const char* name : {"auth", "tasks", "billing", "analytics", "scheduler"}) {
    std::string up;
    for (const char* c = name; *c; ++c) up.push_back(std::toupper(*c));
    Service svc{name, EnvPort("ATES_RUN_" + up + "_PORT", 50051 + offset),
                EnvPort("ATES_RUN_" + up + "_METRICS_PORT", 9151 + offset), ""};
    svc.binary = FindBinary(s.build_dir, svc.program());
    s.services.push_back(svc);
    ++offset;
  }
  s.gateway.grpc_port = EnvPort("ATES_RUN_GATEWAY_GRPC_PORT", s.gateway.grpc_port);
  s.gateway.metrics_port = EnvPort("ATES_RUN_GATEWAY_METRICS_PORT", s.gateway.metrics_port);
  s.gateway.binary = FindBinary(s.build_dir, s.gateway.program());
  s.gateway_http_port = EnvPort("ATES_RUN_GATEWAY_PORT", s.gateway_http_port);
  s.web_root = Absolute(s.root, Env("ATES_RUN_WEB_ROOT", "web/dist"));
  s.atesctl = FindBinary(s.build_dir, "atesctl");
  return s;
}

const char* Usage() {
  return R"(ates-devstack [BUILD_DIR] [--name=value ...]   (`make run`)

Starts the local stack: PostgreSQL 15 and nats-server (JetStream) with their
data in the data folder (.run/), the five databases, every daemon binary found
in BUILD_DIR (default: the build folder this program is in) and a first admin,
then prints how to log in. Ctrl-C (SIGINT/SIGTERM) drains the daemons and stops
the servers; the next start reuses the data folder.

Knobs (environment; each also as a flag: --pg-port=N is ATES_RUN_PG_PORT=N).
They are ates-devstack's own and do not reach the daemons:
  ATES_ADMIN_LOGIN (admin), ATES_ADMIN_PASSWORD (else DIR/admin-password,
  else generated and stored there), ATES_RUN_DIR (.run), ATES_RUN_BIND
  (127.0.0.1), ATES_RUN_PG_PORT (55432), ATES_RUN_NATS_PORT (4222),
  ATES_RUN_NATS_MONITOR_PORT (unset: monitoring off),
  ATES_RUN_<SVC>_PORT and ATES_RUN_<SVC>_METRICS_PORT for SVC in AUTH TASKS
  BILLING ANALYTICS SCHEDULER (50051..50055 and 9151..9155),
  ATES_RUN_GATEWAY_PORT (8080: the web app and Connect API over HTTP),
  ATES_RUN_GATEWAY_GRPC_PORT (50056, health only), ATES_RUN_GATEWAY_METRICS_PORT
  (9156), ATES_RUN_WEB_ROOT (web/dist: the built web app the gateway serves),
  ATES_RUN_STOP_TIMEOUT (seconds a daemon gets to drain, 30),
  ATES_RUN_CONFIG_DIR (config; the daemons get --config DIR/ates-<svc>.yaml),
  ATES_RUN_PG_BIN (/usr/lib/postgresql/15/bin),
  ATES_RUN_TLS (0: plaintext; 1: gRPC over TLS with a local CA made by
  scripts/tls-certs.sh in DIR/tls, and ates-auth requiring client certificates
  (mTLS); ADR 0014).
Every other ATES_* variable reaches the daemons unchanged, so any config key
can be overridden for a run, e.g. ATES_LOG_LEVEL=debug make run.
Generated once into the data folder: admin-password, auth-key-encryption-key
(unless ATES_AUTH_KEY_ENCRYPTION_KEY is set), nats-passwords/ates-<svc>.
Mail of ates-billing goes to DIR/mail unless ATES_BILLING_MAIL_DIR is set.
)";
}

}  // namespace ates::devstack
