#include <gtest/gtest.h>

#include "ates/platform/pg.hpp"

namespace ates::pg {
namespace {

TEST(PgParams, ScalarsAreTextExceptBytes) {
  EXPECT_EQ(Text("abc").value, "abc");
  EXPECT_FALSE(Text("abc").binary);
  EXPECT_FALSE(Text("abc").null);
  EXPECT_EQ(Int(-42).value, "-42");
  EXPECT_EQ(Int(INT64_MAX).value, "9223372036854775807");
  EXPECT_EQ(Bool(true).value, "t");
  EXPECT_EQ(Bool(false).value, "f");
  EXPECT_TRUE(Null().null);
  auto b = Bytes(std::string("\0\x01", 2));
  EXPECT_TRUE(b.binary);
  EXPECT_EQ(b.value.size(), 2u);
  EXPECT_TRUE(Optional(std::optional<std::string>()).null);
  EXPECT_EQ(Optional(std::optional<std::string>("x")).value, "x");
}

TEST(PgParams, TextArrayQuotesEveryElement) {
  EXPECT_EQ(TextArray({}).value, "{}");
  EXPECT_EQ(TextArray({"a"}).value, R"({"a"})");
  EXPECT_EQ(TextArray({"a", "b c"}).value, R"({"a","b c"})");
  EXPECT_FALSE(TextArray({"a"}).binary);
  EXPECT_FALSE(TextArray({"a"}).null);
}

TEST(PgParams, TextArrayEscapesQuotesAndBackslashes) {
  EXPECT_EQ(TextArray({R"(say "hi")"}).value, R"({"say \"hi\""})");
  EXPECT_EQ(TextArray({R"(C:\dir)"}).value, R"({"C:\\dir"})");
  EXPECT_EQ(TextArray({R"(\")"}).value, R"({"\\\""})");
}

TEST(PgParams, TextArrayKeepsSeparatorsAndNullWordInsideQuotes) {
  // Inside quotes, commas, braces and the word NULL are plain text.
  EXPECT_EQ(TextArray({"a,b", "{x}", "NULL", ""}).value, R"({"a,b","{x}","NULL",""})");
}

TEST(PgParams, IntArray) {
  EXPECT_EQ(IntArray({}).value, "{}");
  EXPECT_EQ(IntArray({1, -2, 30}).value, "{1,-2,30}");
}

TEST(PgParams, BytesArrayIsHexByteaInQuotes) {
  // Each element is \x<hex>, its backslash escaped for the array syntax.
  EXPECT_EQ(BytesArray({}).value, "{}");
  EXPECT_EQ(BytesArray({std::string("\x00\xff\x10", 3)}).value, R"({"\\x00ff10"})");
  EXPECT_EQ(BytesArray({"", "AB"}).value, R"({"\\x","\\x4142"})");
  EXPECT_FALSE(BytesArray({"x"}).binary);
}

TEST(PgError, RetryableStates) {
  EXPECT_TRUE(PgError("x", "40001", false).IsRetryable());  // serialization failure
  EXPECT_TRUE(PgError("x", "40P01", false).IsRetryable());  // deadlock
  EXPECT_TRUE(PgError("x", "08006", false).IsRetryable());  // connection failure
  EXPECT_TRUE(PgError("x", "57P01", false).IsRetryable());  // admin shutdown
  EXPECT_TRUE(PgError("x", "", true).IsRetryable());        // connection lost
  EXPECT_FALSE(PgError("x", "23505", false).IsRetryable());
  EXPECT_TRUE(PgError("x", "23505", false).IsUniqueViolation());
  EXPECT_FALSE(PgError("x", "42601", false).IsRetryable());
}

TEST(PgError, TransientStatesAreNotTheDataFault) {
  EXPECT_TRUE(PgError("x", "", true).IsTransient());         // connection lost
  EXPECT_TRUE(PgError("x", "08001", true).IsTransient());    // cannot connect
  EXPECT_TRUE(PgError("x", "53300", false).IsTransient());   // too many connections
  EXPECT_TRUE(PgError("x", "53100", false).IsTransient());   // disk full
  EXPECT_TRUE(PgError("x", "57P03", false).IsTransient());   // cannot connect now
  EXPECT_TRUE(PgError("x", "57014", false).IsTransient());   // statement_timeout
  EXPECT_TRUE(PgError("x", "55P03", false).IsTransient());   // lock_timeout
  EXPECT_TRUE(PgError("x", "25P03", false).IsTransient());   // idle in transaction timeout
  EXPECT_TRUE(PgError("x", "40001", false).IsTransient());   // retries exhausted
  EXPECT_FALSE(PgError("x", "23505", false).IsTransient());  // the data: poison
  EXPECT_FALSE(PgError("x", "23503", false).IsTransient());
  EXPECT_FALSE(PgError("x", "22P02", false).IsTransient());
  EXPECT_FALSE(PgError("x", "AT001", false).IsTransient());  // an invariant of ours
  EXPECT_FALSE(PgError("x", "42601", false).IsTransient());
}

}  // namespace
}  // namespace ates::pg
