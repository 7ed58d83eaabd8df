#pragma once

#include <map>
#include <string>
#include <vector>

namespace ates::devstack {

// One daemon of the local stack: "auth" -> ates-auth on its ports.
struct Service {
  std::string name;  // "auth"
  int grpc_port = 0;
  int metrics_port = 0;
  std::string binary;  // "" when it is not built
  std::string program() const { return "ates-" + name; }
};

// What `make run` starts and where, from the ATES_RUN_* variables (or the
// equivalent --flags) and ATES_ADMIN_*; see Usage().
struct Settings {
  std::string root;        // the source tree (cwd of the daemons)
  std::string build_dir;   // where the binaries are
  std::string run_dir;     // the data folder (.run)
  std::string config_dir;  // ates-<svc>.yaml
  std::string bind = "127.0.0.1";
  int pg_port = 55432;
  int nats_port = 4222;
  int nats_monitor_port = 0;  // 0 = monitoring off
  int stop_timeout_s = 30;
  std::string admin_login = "admin";
  bool tls = false;
  std::string pg_bin = "/usr/lib/postgresql/15/bin";
  std::vector<Service> services;  // auth, tasks, billing, analytics, scheduler
  // ates-gateway: no database, no NATS; its gRPC port serves health only.
  Service gateway{"gateway", 50056, 9156, ""};
  int gateway_http_port = 8080;
  std::string web_root;  // <root>/web/dist
  std::string atesctl;   // "" when not built

  std::string log_dir() const { return run_dir + "/logs"; }
  std::string tls_dir() const { return run_dir + "/tls"; }
  std::string nats_password_dir() const { return run_dir + "/nats-passwords"; }
  // `path` relative to the source tree when it is inside it (for printing).
  std::string Short(const std::string& path) const;
};

// Reads the settings; --name=value flags are set as ATES_RUN_<NAME> first.
// Throws std::invalid_argument on a bad value; prints Usage() for --help and exits.
Settings LoadSettings(int argc, char** argv);
const char* Usage();

}  // namespace ates::devstack
