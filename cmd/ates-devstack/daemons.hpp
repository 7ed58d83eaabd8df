#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ates/devstack/daemon.hpp"
#include "secrets.hpp"
#include "settings.hpp"

namespace ates::devstack {

// The daemons of the local stack, in the order of Settings::services (ates-auth
// first: the others fetch its token-verification keys). Their output goes to
// DIR/logs/<svc>.log as it is and to the terminal prefixed with "[svc] ".
class Daemons final {
 public:
  Daemons(const Settings& settings, const Secrets& secrets)
      : settings_(settings), secrets_(secrets) {}
  ~Daemons() { Stop(); }

  // Starts every built daemon and waits until each is ready.
  void Start();
  // SIGTERM to all at once, then up to ATES_RUN_STOP_TIMEOUT each to drain; SIGKILL after.
  void Stop();
  // Describes a daemon that exited by itself, "" while all run.
  std::string Exited();
  bool any() const { return !running_.empty(); }

 private:
  DaemonOptions OptionsFor(const Service& svc) const;
  DaemonOptions GatewayOptions() const;
  void Launch(const Service& svc, DaemonOptions options, const std::string& what);

  const Settings& settings_;
  const Secrets& secrets_;
  std::vector<std::unique_ptr<Daemon>> running_;
};

}  // namespace ates::devstack
