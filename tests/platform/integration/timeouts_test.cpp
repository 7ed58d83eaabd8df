// Nothing waits for ever (ADR 11), against a real PostgreSQL: statement, lock
// and idle-in-transaction timeouts, the deadline on taking a pooled
// connection, and database work that stops at the caller's deadline, down to a
// real daemon whose database is unreachable.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "ates/platform/log.hpp"
#include "ates/platform/pg.hpp"
#include "ates/platform/rpc_status.hpp"
#include "support/auth_helpers.hpp"
#include "support/process.hpp"
#include "support/test_stack.hpp"
#include "support/wait.hpp"

namespace ates::test {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

std::chrono::milliseconds Since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

pg::ConnectionOptions ShortLimits() {
  pg::ConnectionOptions o;
  o.statement_timeout = 500ms;
  o.lock_timeout = 200ms;
  o.idle_in_transaction_timeout = 500ms;
  return o;
}

// A "database" that accepts every connection and closes it at once, counting
// them: each connection attempt of a client is one accept.
class ClosingListener final {
 public:
  ClosingListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd_, 64) != 0) {
      throw std::runtime_error("ClosingListener: bind/listen failed");
    }
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;  // shut down
        ++accepted_;
        close(c);
      }
    });
  }
  ~ClosingListener() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
  }
  std::string Url() const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/nowhere";
  }
  int accepted() const { return accepted_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

class TimeoutsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      static const bool logging = (log::Init("timeouts-test", "error"), true);
      (void)logging;
      url_ = new std::string(TestStack::Get().CreateDatabase("timeouts"));
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static inline std::string* url_ = nullptr;
  static inline std::string* setup_error_ = nullptr;
};

TEST_F(TimeoutsTest, ServerLimitsTravelWithTheConnectionNextToTheUrlsOwnOptions) {
  pg::Connection c(*url_ + "?options=-c%20search_path%3Dfrom_url", ShortLimits());
  auto r = c.Exec(
      "SELECT current_setting('search_path'), current_setting('statement_timeout'),"
      " current_setting('lock_timeout'), current_setting('idle_in_transaction_session_timeout'),"
      " current_setting('idle_session_timeout'), current_setting('tcp_keepalives_idle'),"
      " current_setting('tcp_keepalives_interval'), current_setting('tcp_keepalives_count'),"
      " current_setting('tcp_user_timeout')");
  EXPECT_EQ(r.String(0, 0), "from_url");
  EXPECT_EQ(r.String(0, 1), "500ms");
  EXPECT_EQ(r.String(0, 2), "200ms");
  EXPECT_EQ(r.String(0, 3), "500ms");
  EXPECT_EQ(r.String(0, 4), "0") << "only the relay's connection ends idle sessions";
  EXPECT_EQ(r.String(0, 5), "10") << "seconds";
  EXPECT_EQ(r.String(0, 6), "5");
  EXPECT_EQ(r.String(0, 7), "3");
  EXPECT_EQ(r.String(0, 8), "15000") << "milliseconds";
}

TEST_F(TimeoutsTest, StatementLongerThanStatementTimeoutFailsWithAClearError) {
  pg::Connection c(*url_, ShortLimits());
  auto start = Clock::now();
  try {
    c.Exec("SELECT pg_sleep(10)");
    ADD_FAILURE() << "the statement was not cut off";
  } catch (const pg::PgError& e) {
    EXPECT_EQ(e.sqlstate(), "57014");
    EXPECT_THAT(e.what(), HasSubstr("canceling statement due to statement timeout"));
    EXPECT_FALSE(e.connection_lost());
    EXPECT_EQ(platform::DatabaseStatus(e).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  EXPECT_LT(Since(start), 3s);
  EXPECT_EQ(c.Exec("SELECT 1").Int(0, 0), 1) << "the connection stays usable";
}

TEST_F(TimeoutsTest, LockWaitLongerThanLockTimeoutFails) {
  pg::Connection holder(*url_);
  pg::Connection waiter(*url_, ShortLimits());
  holder.Exec("CREATE TABLE IF NOT EXISTS locked_t (id int)");
  holder.Exec("BEGIN");
  holder.Exec("LOCK TABLE locked_t IN ACCESS EXCLUSIVE MODE");
  auto start = Clock::now();
  try {
    waiter.Exec("SELECT count(*) FROM locked_t");
    ADD_FAILURE() << "the lock wait was not cut off";
  } catch (const pg::PgError& e) {
    EXPECT_EQ(e.sqlstate(), "55P03");
    EXPECT_THAT(e.what(), HasSubstr("canceling statement due to lock timeout"));
    EXPECT_EQ(platform::DatabaseStatus(e).error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  EXPECT_LT(Since(start), 3s);
  holder.Exec("ROLLBACK");
  EXPECT_EQ(waiter.Exec("SELECT count(*) FROM locked_t").Int(0, 0), 0);
}

TEST_F(TimeoutsTest, TransactionLeftIdleIsEndedByTheServer) {
  pg::Connection idle(*url_, ShortLimits());
  pg::Connection observer(*url_);
  int64_t pid = idle.Exec("SELECT pg_backend_pid()").Int(0, 0);
  idle.Exec("BEGIN");
  EXPECT_TRUE(Eventually(
      [&] {
        return observer.Exec("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", {pg::Int(pid)})
                   .Int(0, 0) == 0;
      },
      5s, 50ms))
      << "the server did not end the idle transaction's session";
  try {
    idle.Exec("SELECT 1");
    ADD_FAILURE() << "the session survived";
  } catch (const pg::PgError& e) {
    EXPECT_TRUE(e.connection_lost()) << e.what();
  }
}

TEST_F(TimeoutsTest, AcquireWithEveryConnectionLeasedFailsAfterTheAcquireTimeout) {
  pg::PoolOptions po;
  po.acquire_timeout = 300ms;
  pg::Pool pool(*url_, 2, po);
  auto first = pool.Acquire();
  auto second = pool.Acquire();
  auto start = Clock::now();
  try {
    pool.Acquire();
    ADD_FAILURE() << "a third connection was handed out";
  } catch (const pg::TimeoutError& e) {
    auto waited = Since(start);
    EXPECT_GE(waited, 300ms);
    EXPECT_LT(waited, 1500ms);
    EXPECT_EQ(e.kind(), pg::TimeoutError::Kind::kAcquire);
    EXPECT_THAT(e.what(), HasSubstr("no free database connection within 300 ms (all 2 in use)"));
    EXPECT_TRUE(e.IsRetryable()) << "transient: consumers must not count it against a message";
    auto status = platform::DatabaseStatus(e);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  }
  // WithRetry does not wait the timeout again for every attempt.
  start = Clock::now();
  EXPECT_THROW(pool.WithRetry([](pg::Connection&) {}), pg::TimeoutError);
  EXPECT_LT(Since(start), 1500ms);
}

TEST_F(TimeoutsTest, AcquireStopsAtTheCallersDeadlineWhenThatComesFirst) {
  pg::Pool pool(*url_, 1);  // the default acquire timeout, 10 s
  auto only = pool.Acquire();
  auto start = Clock::now();
  pg::CallDeadline deadline(start + 200ms);
  try {
    pool.Acquire();
    ADD_FAILURE() << "a second connection was handed out";
  } catch (const pg::TimeoutError& e) {
    EXPECT_EQ(e.kind(), pg::TimeoutError::Kind::kDeadline);
    EXPECT_LT(Since(start), 1500ms);
    EXPECT_EQ(platform::DatabaseStatus(e).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
}

TEST_F(TimeoutsTest, WithRetryStartsNoAttemptThatCouldNotBeginBeforeTheCallersDeadline) {
  ClosingListener unreachable;
  pg::Pool pool(unreachable.Url(), 2);
  int calls = 0;
  auto start = Clock::now();
  {
    pg::CallDeadline deadline(start + 600ms);
    try {
      pool.WithRetry([&](pg::Connection&) { ++calls; });
      ADD_FAILURE() << "connected to a closing listener";
    } catch (const pg::PgError& e) {
      EXPECT_TRUE(e.IsRetryable()) << e.what();
    }
  }
  auto took = Since(start);
  EXPECT_LT(took, 700ms) << "returned after the caller's deadline";
  EXPECT_EQ(calls, 0);
  int attempts = unreachable.accepted();
  EXPECT_GE(attempts, 2) << "it retried while there was time";
  // Without a deadline the same call retries for longer (8 attempts, ~5 s).
  start = Clock::now();
  pool.set_max_attempts(6);
  EXPECT_THROW(pool.WithRetry([](pg::Connection&) {}), pg::PgError);
  EXPECT_GT(Since(start), took);
  EXPECT_EQ(unreachable.accepted() - attempts, 6);
}

TEST_F(TimeoutsTest, GrpcCallOnAnUnreachableDatabaseReturnsWithinItsDeadline) {
  // ates-auth's Login is public and reads the database first. The daemon
  // serves gRPC while it keeps retrying its migrations in the background.
  std::string nowhere =
      "postgresql://postgres@127.0.0.1:" + std::to_string(FreePort()) + "/ates_auth";
  Daemon auth(AuthDaemon("ates-auth-no-db", nowhere));
  auth.Spawn();
  // Not ready (no database), but listening: the channel is made only then,
  // so its first connection attempt is not refused (which would back off).
  ASSERT_TRUE(Eventually(
      [&] { return !auth.Running() || auth.Log().find("\"listening\"") != std::string::npos; },
      30s))
      << auth.Log();
  ASSERT_TRUE(auth.Running()) << auth.Log();
  auto stub = authv1::AuthService::NewStub(auth.channel());
  for (auto deadline : {1000ms, 300ms}) {
    Call call("", deadline);
    authv1::LoginRequest req;
    req.set_login(kAdminLogin);
    req.set_password(kAdminPassword);
    authv1::LoginResponse resp;
    auto start = Clock::now();
    auto status = stub->Login(&call.ctx, req, &resp);
    auto took = Since(start);
    EXPECT_THAT(status.error_code(), ::testing::AnyOf(grpc::StatusCode::UNAVAILABLE,
                                                      grpc::StatusCode::DEADLINE_EXCEEDED))
        << Describe(status);
    EXPECT_LT(took, deadline + 250ms);
  }
  // The handler itself gave up for the caller (the migrations retry on
  // without a deadline, and log "retrying" instead).
  EXPECT_TRUE(Eventually(
      [&] { return auth.Log().find("no retry before the caller's deadline") != std::string::npos; },
      5s))
      << auth.Log();
}

}  // namespace
}  // namespace ates::test
