#include "ates/platform/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
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
  // The writers first show they run (a busy box may start them late), then at
  // least 2,000 replacements, on until 1,000 lines were written meanwhile, at
  // most 100,000 (each replaced logger is kept).
  const auto start_by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (lines.load() < 3 && std::chrono::steady_clock::now() < start_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int64_t before = lines.load();
  int n = 1;
  for (; n <= 2000 || (lines.load() < before + 1000 && n <= 100'000); ++n) Use(quiet(n));
  const int64_t during = lines.load() - before;
  done = true;
  for (auto& w : writers) w.join();
  EXPECT_GE(during, 1000) << "the writers barely wrote during " << n - 1 << " replacements";
  Use(spdlog::default_logger());  // later tests' lines go to stderr again
}

}  // namespace
}  // namespace ates::log
