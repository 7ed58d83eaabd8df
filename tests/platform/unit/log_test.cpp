#include "ates/platform/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>
#include <vector>

namespace ates::log {
namespace {

TEST(JsonEscape, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonEscape("plain"), "plain");
  EXPECT_EQ(JsonEscape(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(JsonEscape(R"(a\b)"), R"(a\\b)");
  EXPECT_EQ(JsonEscape("l1\nl2\r\t"), R"(l1\nl2\r\t)");
  EXPECT_EQ(JsonEscape(std::string("\x01\x1f", 2)), R"(\u0001\u001f)");
  EXPECT_EQ(JsonEscape("popug \xc3\xa9"), "popug \xc3\xa9");  // UTF-8 passes through
}

// A test binary's suites each call Init while nats.c's callback thread may be
// logging; spdlog's own default logger frees the replaced one under the writer.
TEST(Logger, ReplacingItWhileOtherThreadsWriteLosesNoLogger) {
  auto quiet = [](int n) {
    auto logger = std::make_shared<spdlog::logger>("quiet-" + std::to_string(n),
                                                   std::make_shared<spdlog::sinks::null_sink_mt>());
    logger->set_level(spdlog::level::trace);
    return logger;
  };
  Use(quiet(0));
  std::atomic<bool> done{false};
  std::atomic<int64_t> lines{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 3; ++t) {
    writers.emplace_back([&] {
      while (!done) {
        Warn("a line while the logger changes", {{"field", std::string(64, 'x')}});
        ++lines;
      }
    });
  }
  // At least 2,000 replacements, and on until the writers have written while
  // they happened (threads may start late on a busy box).
  const int64_t before = lines.load();
  for (int n = 1; n <= 2000 || lines.load() < before + 1000; ++n) Use(quiet(n));
  done = true;
  for (auto& w : writers) w.join();
  EXPECT_GE(lines.load(), before + 1000);
  Use(spdlog::default_logger());  // later tests' lines go to stderr again
}

}  // namespace
}  // namespace ates::log
