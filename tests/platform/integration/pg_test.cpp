// The PostgreSQL layer of the platform against a real server: array literals
// survive a round trip, pipelines are atomic, migrations are idempotent.
#include "ates/platform/pg.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_stack.hpp"

namespace ates::pg {
namespace {

class PgTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      url_ = new std::string(test::TestStack::Get().CreateDatabase("pg"));
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static inline std::string* url_ = nullptr;
  static inline std::string* setup_error_ = nullptr;
};

TEST_F(PgTest, TextArrayRoundTripsTrickyStrings) {
  std::vector<std::string> values = {"plain",   "",          "with space", "comma,inside",
                                     "{brace}", "NULL",      R"(quote")",  R"(back\slash)",
                                     R"(\")",   "new\nline", "ünïcödé",    R"("\"\\)"};
  Connection c(*url_);
  auto r = c.Exec("SELECT v FROM unnest($1::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
                  {TextArray(values)});
  ASSERT_EQ(r.Rows(), static_cast<int>(values.size()));
  for (int i = 0; i < r.Rows(); ++i) {
    EXPECT_FALSE(r.IsNull(i, 0)) << i;
    EXPECT_EQ(r.String(i, 0), values[i]) << i;
  }
}

TEST_F(PgTest, RowReadsColumnsByNameAndNamesAMissingOne) {
  Connection c(*url_);
  Row row = c.Exec("SELECT NULL::text AS gone, 42::bigint AS answer, 'popug' AS who, true AS ok")
                .At(0);  // the Row keeps the result alive
  EXPECT_EQ(row.Int("answer"), 42);
  EXPECT_EQ(row.String("who"), "popug");
  EXPECT_TRUE(row.Bool("ok"));
  EXPECT_TRUE(row.IsNull("gone"));
  EXPECT_EQ(row.OptionalString("gone"), std::nullopt);
  EXPECT_EQ(row.OptionalString("who"), std::optional<std::string>("popug"));
  EXPECT_THAT([&] { row.Int("Answer"); },
              ::testing::ThrowsMessage<std::logic_error>(::testing::HasSubstr("'Answer'")));
}

TEST_F(PgTest, BytesArrayRoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::vector<std::string> values = {all, "", std::string("\0", 1), "text"};
  Connection c(*url_);
  auto r = c.Exec("SELECT v FROM unnest($1::bytea[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
                  {BytesArray(values)});
  ASSERT_EQ(r.Rows(), static_cast<int>(values.size()));
  for (int i = 0; i < r.Rows(); ++i) EXPECT_EQ(r.Bytes(i, 0), values[i]) << i;
}

TEST_F(PgTest, IntArrayAndBinaryBytesParam) {
  Connection c(*url_);
  auto r =
      c.Exec("SELECT sum(v) FROM unnest($1::bigint[]) AS t(v)", {IntArray({1, -2, 9000000000})});
  EXPECT_EQ(r.Int(0, 0), 8999999999);
  std::string bytes("\x00\x01\xfe\xff", 4);
  auto b = c.Exec("SELECT $1::bytea", {Bytes(bytes)});
  EXPECT_EQ(b.Bytes(0, 0), bytes);
}

TEST_F(PgTest, PipelineIsAllOrNothing) {
  Connection c(*url_);
  c.Exec("CREATE TABLE pipeline_t (id int PRIMARY KEY)");
  EXPECT_NO_THROW(c.ExecPipeline({{"INSERT INTO pipeline_t VALUES ($1)", {Int(1)}},
                                  {"INSERT INTO pipeline_t VALUES ($1)", {Int(2)}}}));
  try {
    c.ExecPipeline({{"INSERT INTO pipeline_t VALUES ($1)", {Int(3)}},
                    {"INSERT INTO pipeline_t VALUES ($1)", {Int(1)}}});  // duplicate key
    ADD_FAILURE() << "no error";
  } catch (const PgError& e) {
    EXPECT_TRUE(e.IsUniqueViolation()) << e.what();
  }
  EXPECT_EQ(c.Exec("SELECT count(*) FROM pipeline_t").Int(0, 0), 2) << "row 3 must be rolled back";
  // The connection is usable afterwards.
  EXPECT_EQ(c.Exec("SELECT 1").Int(0, 0), 1);
}

TEST_F(PgTest, TransactionRollsBackUnlessCommitted) {
  Pool pool(*url_, 2);
  pool.WithRetry([](Connection& c) { c.Exec("CREATE TABLE tx_t (id int)"); });
  try {
    pool.InTransaction([](Transaction& tx) {
      tx.Exec("INSERT INTO tx_t VALUES (1)");
      throw std::runtime_error("abort");
    });
  } catch (const std::runtime_error&) {
  }
  pool.InTransaction([](Transaction& tx) { tx.Exec("INSERT INTO tx_t VALUES (2)"); });
  auto r =
      pool.WithRetry([](Connection& c) { return c.Exec("SELECT array_agg(id)::text FROM tx_t"); });
  EXPECT_EQ(r.String(0, 0), "{2}");
}

TEST_F(PgTest, MigrationsApplyOnceAndAreIdempotent) {
  auto url = test::TestStack::Get().CreateDatabase("migrations");
  Pool pool(url, 2);
  std::vector<Migration> ms = {{"0001_a", "CREATE TABLE a (id int)"},
                               {"0002_b", "INSERT INTO a VALUES (1)"}};
  Migrate(pool, ms);
  Migrate(pool, ms);  // again: nothing re-applied
  auto count = pool.WithRetry([](Connection& c) { return c.Exec("SELECT count(*) FROM a"); });
  EXPECT_EQ(count.Int(0, 0), 1);
  ms.push_back({"0003_c", "INSERT INTO a VALUES (2)"});
  Migrate(pool, ms);
  count = pool.WithRetry([](Connection& c) { return c.Exec("SELECT count(*) FROM a"); });
  EXPECT_EQ(count.Int(0, 0), 2);
  Migrate(pool, PlatformMigrations());
  Migrate(pool, PlatformMigrations());
  auto tables = pool.WithRetry([](Connection& c) {
    return c.Exec(
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN"
        " ('outbox', 'processed_events', 'dead_letters')");
  });
  EXPECT_EQ(tables.Int(0, 0), 3);
}

TEST_F(PgTest, BrokenMigrationFailsAndIsNotRecorded) {
  auto url = test::TestStack::Get().CreateDatabase("bad_migration");
  Pool pool(url, 2);
  std::vector<Migration> ms = {{"0001_ok", "CREATE TABLE ok_t (id int)"},
                               {"0002_broken", "CREATE TABLE broken_t (id int); SELEC 1"}};
  EXPECT_ANY_THROW(Migrate(pool, ms));
  auto r = pool.WithRetry([](Connection& c) {
    return c.Exec("SELECT to_regclass('ok_t') IS NOT NULL, to_regclass('broken_t') IS NOT NULL");
  });
  EXPECT_TRUE(r.Bool(0, 0)) << "the good migration stays applied";
  EXPECT_FALSE(r.Bool(0, 1)) << "the broken one is rolled back as a whole";
  ms[1].sql = "CREATE TABLE broken_t (id int)";
  EXPECT_NO_THROW(Migrate(pool, ms));  // fixed, it applies on the next start
}

}  // namespace
}  // namespace ates::pg
