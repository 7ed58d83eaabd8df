// A COMMIT whose reply is lost with the connection: Pool::InTransaction asks
// the server whether the transaction committed and reruns it only if it did
// not. The connection is lost for real, by a proxy (support/pg_proxy) that
// cuts it right at the commit.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "ates/platform/pg.hpp"
#include "support/pg_proxy.hpp"
#include "support/test_stack.hpp"
#include "support/wait.hpp"

namespace ates::pg {
namespace {

using test::PgProxy;
using namespace std::chrono_literals;

class PgCommitTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      auto& stack = test::TestStack::Get();
      url_ = new std::string(stack.CreateDatabase("pg_commit"));
      proxy_ = new PgProxy(stack.pg_port());
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
    proxy_->Disarm();
    proxy_->set_refusing(false);
    // One table per test: the proxy drops only commits that wrote to it.
    table_ = "lost_reply_" + std::to_string(++tables_);
    Connection c(*url_);
    c.Exec("CREATE TABLE " + table_ + " (id int PRIMARY KEY)");
    insert_ = "INSERT INTO " + table_ + " VALUES ($1)";
  }
  int64_t Rows() {
    Connection c(*url_);
    return c.Exec("SELECT count(*) FROM " + table_).Int(0, 0);
  }
  std::unique_ptr<Pool> ProxiedPool() { return std::make_unique<Pool>(proxy_->Url(*url_), 2); }

  static inline std::string* url_ = nullptr;
  static inline PgProxy* proxy_ = nullptr;
  static inline std::string* setup_error_ = nullptr;
  static inline int tables_ = 0;
  std::string table_;
  std::string insert_;
};

TEST_F(PgCommitTest, ACommitWhoseReplyIsLostSucceedsOnceWithoutARerun) {
  auto pool = ProxiedPool();
  proxy_->Arm(PgProxy::Drop::kAfterCommit, insert_);
  int runs = 0;
  int result = pool->InTransaction([&](Transaction& tx) {
    ++runs;
    tx.Exec(insert_, {Int(1)});
    return 42;
  });
  EXPECT_EQ(result, 42);
  EXPECT_EQ(proxy_->drops(), 1);
  EXPECT_EQ(runs, 1) << "a committed transaction must not run again";
  EXPECT_EQ(Rows(), 1);
}

TEST_F(PgCommitTest, ATransactionLostBeforeItsCommitIsRerun) {
  auto pool = ProxiedPool();
  int drops = proxy_->drops();
  proxy_->Arm(PgProxy::Drop::kBeforeCommit, insert_);
  int runs = 0;
  pool->InTransaction([&](Transaction& tx) {
    ++runs;
    tx.Exec(insert_, {Int(1)});
  });
  EXPECT_EQ(proxy_->drops(), drops + 1);
  EXPECT_EQ(runs, 2) << "an aborted transaction is run again";
  EXPECT_EQ(Rows(), 1);
}

TEST_F(PgCommitTest, ABackendLeftIdleInTransactionIsEndedThenTheTransactionRerun) {
  // The COMMIT never reaches the server and the server is not told: its
  // transaction stays "in progress" until the pool ends that backend.
  auto pool = ProxiedPool();
  proxy_->Arm(PgProxy::Drop::kHalfOpen, insert_);
  int runs = 0;
  pool->InTransaction([&](Transaction& tx) {
    ++runs;
    tx.Exec(insert_, {Int(1)});
  });
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(Rows(), 1);
}

TEST_F(PgCommitTest, AnOutcomeThatCannotBeLearnedFailsWithoutARerun) {
  auto pool = ProxiedPool();
  pool->set_max_attempts(3);
  proxy_->Arm(PgProxy::Drop::kAfterCommit, insert_);
  int runs = 0;
  try {
    pool->InTransaction([&](Transaction& tx) {
      ++runs;
      tx.Exec(insert_, {Int(1)});
      proxy_->set_refusing(true);  // from now on the database looks down
    });
    ADD_FAILURE() << "no error";
  } catch (const PgError& e) {
    EXPECT_TRUE(e.IsCommitUnknown()) << e.what();
    EXPECT_TRUE(e.IsRetryable()) << "transient for callers (UNAVAILABLE), though never rerun";
    EXPECT_NE(std::string(e.what()).find("commit outcome unknown"), std::string::npos) << e.what();
  }
  proxy_->set_refusing(false);
  EXPECT_EQ(runs, 1) << "an unknown outcome must not be rerun";
  EXPECT_EQ(Rows(), 1) << "it did commit";
}

TEST_F(PgCommitTest, APipelinedTransactionWhoseReplyIsLostCommitsOnce) {
  auto pool = ProxiedPool();
  proxy_->Arm(PgProxy::Drop::kAfterCommit, insert_);
  int runs = 0;
  pool->InTransaction([&](Transaction& tx) {
    ++runs;
    auto r =
        tx.ExecPipeline({{insert_, {Int(1)}}, {insert_, {Int(2)}}, {"SELECT $1::int", {Int(7)}}},
                        Connection::Plan::kGeneric);
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[2].Int(0, 0), 7);
    EXPECT_FALSE(tx.xid().empty());
  });
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(Rows(), 2);
}

TEST_F(PgCommitTest, AFailedPipelineInATransactionRollsBackAndLeavesTheConnectionUsable) {
  Pool pool(*url_, 1);
  pool.InTransaction([&](Transaction& tx) { tx.Exec(insert_, {Int(1)}); });
  try {
    pool.InTransaction([&](Transaction& tx) {
      tx.ExecPipeline({{insert_, {Int(2)}}, {insert_, {Int(1)}}});  // duplicate key
    });
    ADD_FAILURE() << "no error";
  } catch (const PgError& e) {
    EXPECT_TRUE(e.IsUniqueViolation()) << e.what();
  }
  // The same (only) connection: not left in an aborted transaction block.
  pool.InTransaction([&](Transaction& tx) { tx.Exec(insert_, {Int(3)}); });
  EXPECT_EQ(Rows(), 2);
}

TEST_F(PgCommitTest, TheProxyFindsThePipelineSyncThatCommits) {
  // A pipeline without BEGIN commits at its sync: that reply can be lost too
  // (which is why money-moving pipelines run inside InTransaction).
  Connection c(proxy_->Url(*url_));
  c.EnsureConnected();
  int drops = proxy_->drops();
  proxy_->Arm(PgProxy::Drop::kAfterCommit, insert_);
  try {
    c.ExecPipeline({{insert_, {Int(1)}}, {insert_, {Int(2)}}});
    ADD_FAILURE() << "no error";
  } catch (const PgError& e) {
    EXPECT_TRUE(e.connection_lost()) << e.what();
  }
  EXPECT_EQ(proxy_->drops(), drops + 1);
  // The server got the sync before the cut: both rows commit.
  EXPECT_TRUE(test::Eventually([&] { return Rows() == 2; }, 5s)) << Rows();
}

}  // namespace
}  // namespace ates::pg
