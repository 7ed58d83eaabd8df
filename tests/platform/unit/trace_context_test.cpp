#include "ates/platform/trace_context.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <set>
#include <sstream>
#include <thread>

#include "ates/platform/log.hpp"

namespace ates::trace {
namespace {

constexpr const char* kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentParse, ReadsAValidVersion00Header) {
  auto context = Parse(kValid);
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(context->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(context->span_id, "00f067aa0ba902b7");
  EXPECT_EQ(context->flags, 0x01);
}

TEST(TraceparentParse, FormatsBackToTheSameHeader) {
  EXPECT_EQ(Parse(kValid)->Traceparent(), kValid);
  EXPECT_EQ(Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")->Traceparent(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
}

TEST(TraceparentParse, RefusesAnotherVersion) {
  EXPECT_FALSE(Parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(Parse("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
}

TEST(TraceparentParse, RefusesAllZeroIds) {
  EXPECT_FALSE(Parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
  EXPECT_FALSE(Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
}

TEST(TraceparentParse, RefusesWrongLengthsAndSeparators) {
  EXPECT_FALSE(Parse(""));
  EXPECT_FALSE(Parse("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01"));     // short trace
  EXPECT_FALSE(Parse("00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01"));   // long trace
  EXPECT_FALSE(Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01"));     // short span
  EXPECT_FALSE(Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1"));     // short flags
  EXPECT_FALSE(Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x"));  // trailing
  EXPECT_FALSE(Parse("00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01"));
}

TEST(TraceparentParse, RefusesUpperCaseAndNonHexDigits) {
  EXPECT_FALSE(Parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"));
  EXPECT_FALSE(Parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"));
  EXPECT_FALSE(Parse("00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"));
}

TEST(TraceparentContinue, KeepsTheTraceIdWithANewSpan) {
  auto child = ContinueOrStart(kValid);
  EXPECT_EQ(child.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(child.span_id, "00f067aa0ba902b7");
  EXPECT_TRUE(Parse(child.Traceparent()).has_value());
}

TEST(TraceparentContinue, StartsANewTraceForAMissingOrBadHeader) {
  auto a = ContinueOrStart("");
  auto b = ContinueOrStart("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01");
  EXPECT_TRUE(Parse(a.Traceparent()).has_value());
  EXPECT_TRUE(Parse(b.Traceparent()).has_value());
  EXPECT_NE(a.trace_id, b.trace_id);
  EXPECT_NE(b.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(TraceIds, AreValidAndDistinctAcrossThreads) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(NewTraceId());
  std::string other;
  std::thread([&] { other = NewTraceId(); }).join();
  ids.insert(other);
  EXPECT_EQ(ids.size(), 1001u);
  for (const auto& id : ids) EXPECT_TRUE(Parse("00-" + id + "-00f067aa0ba902b7-01"));
}

TEST(TraceScope, SetsAndRestoresTheThreadsContext) {
  EXPECT_EQ(Current(), nullptr);
  {
    Scope outer(Parse(kValid).value());
    ASSERT_NE(Current(), nullptr);
    {
      Scope inner(Current()->Child());
      EXPECT_NE(Current()->span_id, "00f067aa0ba902b7");
      std::thread([] { EXPECT_EQ(Current(), nullptr); }).join();  // per thread
    }
    EXPECT_EQ(Current()->span_id, "00f067aa0ba902b7");
  }
  EXPECT_EQ(Current(), nullptr);
}

// Log lines as log.cpp renders them, caught in a stream.
class LogLines : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_pattern("{%v}");
    log::Use(logger);
  }
  // Lines after this test go to spdlog's own logger, not into a gone stream.
  void TearDown() override { log::Use(spdlog::default_logger()); }
  std::ostringstream out_;
};

TEST_F(LogLines, CarryTheCurrentTraceAndSpanIds) {
  Scope scope(Parse(kValid).value());
  log::Info("hello", {{"task_id", "t1"}});
  EXPECT_EQ(
      out_.str(),
      "{\"msg\":\"hello\",\"task_id\":\"t1\",\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
      "\"span_id\":\"00f067aa0ba902b7\"}\n");
}

TEST_F(LogLines, HaveNoTraceFieldsWithoutACurrentContext) {
  log::Info("hello", {{"task_id", "t1"}});
  EXPECT_EQ(out_.str(), "{\"msg\":\"hello\",\"task_id\":\"t1\"}\n");
}

}  // namespace
}  // namespace ates::trace
