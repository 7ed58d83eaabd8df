#pragma once

#include <memory>

#include "ates/devstack/nats_server.hpp"
#include "ates/devstack/postgres.hpp"
#include "secrets.hpp"
#include "settings.hpp"

namespace ates::devstack {

// PostgreSQL (data in DIR/pg, the databases ates_<svc>) and nats-server
// (JetStream in DIR/nats, one user per daemon with the permission table of
// deploy/k8s/base/nats/ates-permissions.conf) of the local stack.
class Servers final {
 public:
  Servers(const Settings& settings, const Secrets& secrets);
  ~Servers();

  void StartPostgres();
  void StartNats();
  // nats-server first (the daemons are gone by then), then PostgreSQL (fast shutdown).
  void Stop();
  // Names the server that exited by itself, "" while both run.
  std::string Exited();

  const std::string& pg_data() const { return pg_data_; }

 private:
  PostgresOptions PostgresPlace();
  void StopLeftoverPostmaster();

  const Settings& settings_;
  const Secrets& secrets_;
  std::string pg_data_;
  std::unique_ptr<Postgres> postgres_;
  std::unique_ptr<NatsServer> nats_;
};

}  // namespace ates::devstack
