#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ates/devstack/log_tee.hpp"
#include "ates/devstack/process.hpp"
#include "ates/platform/tls_channel.hpp"

namespace ates::devstack {

struct DaemonOptions {
  std::string name;    // for log file names and messages, e.g. "ates-auth"
  std::string binary;  // path of the executable
  std::string config;  // --config FILE
  // ATES_* overrides. ATES_GRPC_LISTEN is set to a free port and
  // ATES_ADMIN_LISTEN to "" (no metrics endpoint) unless given here.
  std::map<std::string, std::string> env;
  std::chrono::milliseconds ready_timeout{std::chrono::seconds(30)};
  // How the caller talks to the daemon (channel(), readiness checks):
  // plaintext unless tls.ca is set (a daemon serving TLS, ADR 0014).
  platform::ClientTls tls;
  // Inherited variables starting with these are not passed on (SpawnOptions).
  std::vector<std::string> drop_env_prefixes{"ATES_"};
  // Non-empty: the output also goes to stderr, each line prefixed with this.
  std::string echo_prefix;
};

// Where a daemon's next start writes its output and runs (asked at each Spawn).
struct DaemonPlace {
  std::string log_path;
  std::string cwd;
};
using PlaceDaemon = std::function<DaemonPlace(const std::string& name)>;

// One daemon process, started with env overrides (on a free gRPC port unless
// ATES_GRPC_LISTEN is given). Start() waits for grpc.health.v1 "readiness" to
// be SERVING. Killed on destruction if still running.
class Daemon {
 public:
  Daemon(DaemonOptions options, PlaceDaemon place);
  virtual ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Spawns and waits for readiness; throws with the log tail on failure. A
  // daemon on a free port that lost it to someone else gets another (3 tries).
  void Start();
  // Spawns without waiting (for start-up failure tests).
  void Spawn();
  // SIGTERM, then the exit code (128+signal if it had to be killed).
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void Kill();
  // Sends a signal to the process, e.g. SIGSTOP / SIGCONT to pause it.
  void Signal(int sig);
  // Exit code once the process ends by itself, nullopt on timeout.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  bool Running();

  const std::string& name() const { return options_.name; }
  const std::string& target() const { return target_; }
  // The process id while it runs (for /proc/<pid>/status), -1 before Spawn.
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  std::shared_ptr<grpc::Channel> channel();
  // A channel with a connection of its own (for concurrent clients).
  std::shared_ptr<grpc::Channel> NewChannel() const;
  std::string Log() const;
  const std::string& log_path() const { return log_path_; }
  // The health status of `service` ("" / "liveness" / "readiness"), or -1 when unreachable.
  int HealthStatus(const std::string& service);

 protected:
  // Kills a running process and waits for its output to be copied.
  void KillAndCollect();

 private:
  bool WaitReady();
  void Finished();

  DaemonOptions options_;
  PlaceDaemon place_;
  std::string target_;
  std::string log_path_;
  std::unique_ptr<Process> process_;
  std::unique_ptr<LogTee> tee_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace ates::devstack
