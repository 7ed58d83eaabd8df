#pragma once

#include <map>
#include <memory>
#include <string>

#include "ates/devstack/nats_server.hpp"
#include "ates/devstack/postgres.hpp"
#include "support/process.hpp"

namespace ates::test {

// A private PostgreSQL 15 and nats-server (JetStream) for one test binary, in a
// fresh /tmp/ates-test-<pid>-XXXXXX folder on free ports. Started on first use,
// stopped and removed by Shutdown() (called from the test main) or at exit.
// Folders of earlier runs whose process is gone are swept at start.
class TestStack final {
 public:
  static TestStack& Get();
  static void ShutdownIfStarted();
  ~TestStack();

  // Creates a database with a unique name starting with `prefix` and returns
  // its URL (postgresql://postgres@127.0.0.1:PORT/NAME).
  std::string CreateDatabase(const std::string& prefix);
  std::string DatabaseUrl(const std::string& name) const;
  // Clients that give no credentials are the "test" user, which may do
  // anything (no_auth_user): the suites' own tooling reads and writes every
  // stream. The daemons connect as their own users (ADR 15) with these passwords.
  const std::string& nats_url() const { return nats_url_; }
  // The password of NATS user `user` ("ates-tasks", ..., "test").
  std::string NatsPassword(const std::string& user) const;
  // Writes `dir`/nats-auth.conf: the permission table of deploy/ and the users
  // with this stack's passwords; returns its path (for nats-server -c).
  std::string WriteNatsAuth(const std::string& dir) const;
  int pg_port() const { return postgres_->port(); }

  // Stops nats-server (SIGINT, it flushes its store) and starts it again on
  // the same port with the same store, so JetStream data survives.
  void StopNats();
  void StartNats();
  // SIGKILL: what JetStream had not written to its files yet is lost.
  void KillNats();
  bool nats_running() const { return nats_->running(); }

  // PostgreSQL faults. Stop and start keep the port and the data folder, so
  // every database survives. kFast is `pg_ctl -m fast` (SIGINT: sessions are
  // ended, a shutdown checkpoint is written); kImmediate is `-m immediate`
  // (SIGQUIT, crash recovery at the next start). The stack runs with
  // synchronous_commit=off, so an immediate stop also loses the commits of the
  // last few hundred milliseconds: a fault of the test machine, not of aTES.
  enum class PgStopMode { kFast, kImmediate };
  void StopPostgres(PgStopMode mode);
  void StartPostgres();
  bool postgres_running() const { return postgres_->running(); }
  // SIGSTOP / SIGCONT to every process of the cluster (the postmaster from the
  // data folder's postmaster.pid and all its children): connections stay open
  // and every query hangs, like a server that stopped answering.
  void FreezePostgres();
  void ThawPostgres();
  bool postgres_frozen() const { return pg_frozen_; }

  const std::string& dir() const { return dir_; }
  // A fresh file path in the stack's folder for a process's output.
  std::string LogPath(const std::string& name);

 private:
  TestStack();
  void StopPostgres() { StopPostgres(PgStopMode::kFast); }
  void SignalPostgres(int sig);
  void Shutdown();

  std::string dir_;
  std::string nats_url_;
  std::map<std::string, std::string> nats_passwords_;
  std::unique_ptr<devstack::Postgres> postgres_;
  std::unique_ptr<devstack::NatsServer> nats_;
  int db_counter_ = 0;
  int log_counter_ = 0;
  bool pg_frozen_ = false;
};

}  // namespace ates::test
