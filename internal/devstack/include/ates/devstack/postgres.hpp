#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ates/devstack/process.hpp"

namespace ates::devstack {

// The user PostgreSQL's tools run as: initdb and postgres refuse root, so as
// root that is the `postgres` system user (TOOLCHAIN.md); nullopt otherwise
// (the current user). Throws when running as root without that user.
struct PgAccount {
  uid_t uid;
  gid_t gid;
};
std::optional<PgAccount> PostgresAccount();

struct PostgresOptions {
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  std::string data_dir;                  // the cluster (created by Init)
  std::string socket_dir;                // unix socket folder (-k)
  std::string log_path;                  // the server's output
  std::string initdb_log;                // initdb's output
  int port = 0;                          // 0: a free port, picked at the first start
  std::vector<std::string> initdb_args;  // beyond -D, -U postgres, --auth=trust, -E UTF8
  std::vector<std::string> settings;     // "name=value", each passed as -c
};

// A throw-away cluster in `folder` (pg/, sock/, postgres.log, initdb.log) on
// a free port, loopback only, with `settings` on top; initdb skips its fsyncs.
PostgresOptions ScratchPostgres(const std::string& folder, std::vector<std::string> settings);

// One PostgreSQL 15 cluster run in the foreground (not via pg_ctl), so the
// postmaster is a child (Process) that dies with its parent. Stop and Start
// keep the port and the data folder.
class Postgres final {
 public:
  explicit Postgres(PostgresOptions options);
  ~Postgres();

  bool initialised() const;  // PG_VERSION exists in the data folder
  // initdb into an empty (or absent) data folder; throws with its log.
  void Init();
  // Starts and waits until it accepts connections; throws with the log tail.
  void Start();
  // SIGINT = fast shutdown (a checkpoint), SIGQUIT = immediate (crash recovery next time).
  void Stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool running() const { return process_ != nullptr; }
  // True when the postmaster exited by itself.
  bool Exited();

  int port() const { return port_; }
  // postgresql://postgres@127.0.0.1:PORT/NAME
  std::string Url(const std::string& database) const;
  // CREATE DATABASE `name` unless it exists; `name` is [a-z0-9_] only.
  void EnsureDatabase(const std::string& name) const;
  const std::optional<PgAccount>& account() const { return account_; }
  const PostgresOptions& options() const { return options_; }

 private:
  bool StartOnce();

  PostgresOptions options_;
  std::optional<PgAccount> account_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

// Makes `path` (a folder) belong to the PostgreSQL account when there is one.
void ChownToPostgres(const std::optional<PgAccount>& account, const std::string& path);

}  // namespace ates::devstack
