#pragma once

#include <signal.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "ates/devstack/process.hpp"

namespace ates::devstack {

struct NatsServerOptions {
  std::string config_path{};  // -c FILE ("" = none: no users)
  std::string store_dir{};    // JetStream file store (-sd)
  std::string host = "127.0.0.1";
  int port = 0;          // required
  int monitor_port = 0;  // 0 = monitoring off
  std::string log_path{};
  // When the server counts as ready; default: it greets with INFO.
  std::function<bool()> ready{};
};

// nats-server with JetStream as a child process. Start() retries a few times
// (after a restart the port may still be in TIME_WAIT briefly).
class NatsServer final {
 public:
  explicit NatsServer(NatsServerOptions options) : options_(std::move(options)) {}
  ~NatsServer() { Stop(SIGTERM); }

  void Start();
  // Signals (SIGINT/SIGTERM: the store is flushed) and waits; returns the exit code.
  int Stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool running() const { return process_ != nullptr; }
  bool Exited() { return process_ && !process_->Running(); }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(options_.port); }
  int port() const { return options_.port; }
  void set_port(int port) { options_.port = port; }

 private:
  NatsServerOptions options_;
  std::unique_ptr<Process> process_;
};

// The NATS user of a daemon ("ates-tasks") and its permission variable in
// deploy/k8s/base/nats/ates-permissions.conf ("ATES_TASKS_PERMISSIONS").
std::string PermissionsVariable(const std::string& user);

// A nats-server config: includes ./ates-permissions.conf (next to it) and one
// user per entry of `passwords` (user -> password), each with its permission
// variable unless it is in `unrestricted`; `extra` is appended.
std::string NatsAuthConfig(const std::map<std::string, std::string>& passwords,
                           const std::string& unrestricted, const std::string& extra);

}  // namespace ates::devstack
