#pragma once

#include <memory>
#include <string>

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
  const std::string& nats_url() const { return nats_url_; }
  int pg_port() const { return pg_port_; }

  // Stops nats-server (SIGINT, it flushes its store) and starts it again on
  // the same port with the same store, so JetStream data survives.
  void StopNats();
  void StartNats();
  bool nats_running() const { return nats_ != nullptr; }

  const std::string& dir() const { return dir_; }
  // A fresh file path in the stack's folder for a process's output.
  std::string LogPath(const std::string& name);

 private:
  TestStack();
  void StartPostgres();
  void StopPostgres();
  void Shutdown();

  std::string dir_;
  int pg_port_ = 0;
  int nats_port_ = 0;
  std::string nats_url_;
  std::unique_ptr<Process> pg_;
  std::unique_ptr<Process> nats_;
  int db_counter_ = 0;
  int log_counter_ = 0;
  bool run_as_postgres_ = false;
  uid_t pg_uid_ = 0;
  gid_t pg_gid_ = 0;
};

}  // namespace ates::test
