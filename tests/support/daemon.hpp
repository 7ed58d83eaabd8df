#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "ates/platform/tls_channel.hpp"
#include "support/process.hpp"

namespace ates::test {

struct DaemonOptions {
  std::string name;    // for log file names and messages, e.g. "ates-auth"
  std::string binary;  // path, e.g. ATES_AUTH_BIN
  std::string config;  // --config FILE
  // ATES_* overrides. ATES_GRPC_LISTEN is set to a free port and
  // ATES_ADMIN_LISTEN to "" (no metrics endpoint) unless given here.
  std::map<std::string, std::string> env;
  std::chrono::milliseconds ready_timeout{std::chrono::seconds(30)};
  // How the test itself calls the daemon (channel(), readiness checks):
  // plaintext unless tls.ca is set (a daemon serving TLS, ADR 0014).
  platform::ClientTls tls;
};

// One daemon process of the system under test, started with env overrides on
// a free gRPC port. Start() waits for grpc.health.v1 "readiness" to be SERVING.
// Its stderr goes to a file, printed when the running test has failed (or
// always with ATES_TEST_SHOW_LOGS=1).
class Daemon final {
 public:
  explicit Daemon(DaemonOptions options);
  ~Daemon();

  // Spawns and waits for readiness; throws with the log tail on failure.
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

  const std::string& target() const { return target_; }
  // The process id while it runs (for /proc/<pid>/status), -1 before Spawn.
  pid_t pid() const { return process_ ? process_->pid() : -1; }
  std::shared_ptr<grpc::Channel> channel();
  std::string Log() const;
  const std::string& log_path() const { return log_path_; }
  // The health status of `service` ("" / "liveness" / "readiness"), or -1 when unreachable.
  int HealthStatus(const std::string& service);

 private:
  DaemonOptions options_;
  std::string target_;
  std::string log_path_;
  std::unique_ptr<Process> process_;
  std::shared_ptr<grpc::Channel> channel_;
};

// The key ates-auth seals its signing keys with in tests (ATES_AUTH_KEY_ENCRYPTION_KEY,
// set by SystemDaemon): a fixed test value, never a real one.
inline constexpr const char* kTestKeyEncryptionKey = "dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=";

// Paths of things in the source tree (ATES_SOURCE_DIR at build time).
std::string SourcePath(const std::string& relative);

// A daemon of the system (`service`, e.g. "ates-tasks", run from `binary`
// with config/<service>.yaml) on `database_url` and the test stack's NATS, with
// the suites' defaults: the relay polls every 100 ms, a 3 s shutdown grace, 4
// database connections. `settings` (the service's own) go on top of those, and
// `overrides` (a test's) on top of everything.
DaemonOptions SystemDaemon(const std::string& name, const std::string& service,
                           const std::string& binary, const std::string& database_url,
                           const std::map<std::string, std::string>& settings,
                           const std::map<std::string, std::string>& overrides);

}  // namespace ates::test
