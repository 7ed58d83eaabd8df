#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ates::test {

// A TCP proxy between PostgreSQL clients and the test stack's server that can
// lose a connection exactly at a commit: it forwards bytes both ways and, when
// armed, closes both sides right around a commit point, so the client never
// learns the outcome. A commit point is a simple query "COMMIT", or a Sync
// that ends an implicit transaction (a pipeline without BEGIN). The proxy
// reads the client's messages (startup, then type byte + length) to find them.
class PgProxy final {
 public:
  // kAfterCommit: the commit point reaches the server (which commits), its
  // reply does not reach the client. kBeforeCommit: the commit point is
  // swallowed and the server sees its client vanish mid-transaction (aborts).
  // kHalfOpen: the commit point is swallowed and the server is not told: its
  // backend waits, idle in transaction, as behind a dead network path.
  enum class Drop { kAfterCommit, kBeforeCommit, kHalfOpen };

  explicit PgProxy(int upstream_port);
  ~PgProxy();
  PgProxy(const PgProxy&) = delete;
  PgProxy& operator=(const PgProxy&) = delete;

  int port() const { return port_; }
  // `database_url` (postgresql://user@host:port/name) with this proxy's port.
  std::string Url(const std::string& database_url) const;

  // Drops the next `times` commit points of transactions whose statements
  // contain `needle` ("" = any transaction).
  void Arm(Drop drop, const std::string& needle = "", int times = 1);
  void Disarm();
  // While refusing, new connections are closed at once (the database looks
  // down) and open ones keep working.
  void set_refusing(bool refusing) { refusing_ = refusing; }
  // Connections dropped at a commit point so far.
  int drops() const { return drops_; }

 private:
  struct Link;
  void AcceptLoop();
  void Serve(int client_fd);
  // Whether the client's message (type, body) at a commit point must be
  // dropped now; updates the link's transaction state.
  bool ShouldDrop(Link& link, char type, std::string_view body, Drop* how);

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> refusing_{false};
  std::thread acceptor_;

  mutable std::mutex mu_;
  std::vector<std::thread> links_;
  std::vector<int> open_fds_;
  Drop drop_ = Drop::kAfterCommit;
  std::string needle_;
  int armed_ = 0;
  std::atomic<int> drops_{0};
};

}  // namespace ates::test
