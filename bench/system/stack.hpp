#pragma once

// The whole system as `make run` starts it (cmd/ates-devstack, ADR 0023):
// PostgreSQL 15 with one database per service, nats-server with JetStream and
// the five daemons, each with its config/ates-<svc>.yaml, on free ports, with
// the data under one folder. Differences from `make run`, all for the
// benchmark: the NATS server has no users (the load generator reads BILLING
// and consumer info), the per-account CreateTask limit and the shuffle
// cool-down are off (a few hundred accounts create thousands of tasks a
// second), and the gateway is not started (the load goes to the daemons).

#include <memory>
#include <string>
#include <vector>

#include "ates/devstack/daemon.hpp"
#include "ates/devstack/nats_server.hpp"
#include "ates/devstack/postgres.hpp"

namespace ates::bench::system {

struct StackOptions {
  std::string source_dir;  // config/ lives here; the daemons' cwd
  std::string bin_dir;     // ates-<svc> binaries
  std::string work_dir;    // data and logs (emptied first)
};

class Stack final {
 public:
  explicit Stack(StackOptions options);
  ~Stack();

  void Start();
  void Stop();

  // "auth" -> 127.0.0.1:PORT
  std::string Address(const std::string& service) const;
  pid_t Pid(const std::string& service) const;
  pid_t PostgresPid() const;
  pid_t NatsPid() const;
  std::string NatsUrl() const { return nats_->url(); }
  std::string PgUrl(const std::string& database) const { return pg_->Url(database); }
  void EnsureDatabase(const std::string& name) const { pg_->EnsureDatabase(name); }
  const std::string& work_dir() const { return options_.work_dir; }

  static const std::vector<std::string>& Services();
  static constexpr const char* kAdminPassword = "bench-system-admin-1";

 private:
  devstack::DaemonOptions OptionsFor(const std::string& svc) const;

  StackOptions options_;
  std::unique_ptr<devstack::Postgres> pg_;
  std::unique_ptr<devstack::NatsServer> nats_;
  std::vector<std::unique_ptr<devstack::Daemon>> daemons_;
};

}  // namespace ates::bench::system
