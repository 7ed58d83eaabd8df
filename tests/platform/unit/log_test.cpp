#include "ates/platform/log.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace ates::log
