#include "ates/platform/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace ates::platform {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// Sets an environment variable for the scope of one test.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name_.c_str()); }

 private:
  std::string name_;
};

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no ConfigError>";
}

constexpr const char* kYaml = R"(
log:
  level: info
database:
  url: postgresql://db/ates
  pool_size: 8
nats:
  urls: [nats://a:4222, nats://b:4222]
outbox:
  poll_interval: 250ms
  enabled: true
empty_value:
)";

TEST(Config, FlattensNestedMapsToDottedKeys) {
  auto c = Config::FromString(kYaml);
  EXPECT_EQ(c.GetString("log.level"), "info");
  EXPECT_EQ(c.GetString("database.url"), "postgresql://db/ates");
  EXPECT_EQ(c.GetInt("database.pool_size"), 8);
  EXPECT_TRUE(c.GetBool("outbox.enabled"));
  EXPECT_EQ(c.GetDuration("outbox.poll_interval"), 250ms);
}

TEST(Config, JoinsSequencesWithCommas) {
  auto c = Config::FromString(kYaml);
  EXPECT_EQ(c.GetString("nats.urls"), "nats://a:4222,nats://b:4222");
}

TEST(Config, NullValueIsAnEmptyString) {
  auto c = Config::FromString(kYaml);
  EXPECT_EQ(c.GetString("empty_value"), "");
}

TEST(Config, EnvNameUpperCasesAndReplacesDotsAndDashes) {
  EXPECT_EQ(Config::EnvName("database.url"), "ATES_DATABASE_URL");
  EXPECT_EQ(Config::EnvName("auth.login_max_failures"), "ATES_AUTH_LOGIN_MAX_FAILURES");
  EXPECT_EQ(Config::EnvName("a.b-c"), "ATES_A_B_C");
}

TEST(Config, EnvironmentOverridesTheFile) {
  auto c = Config::FromString("unit_test:\n  key: from-file\n  other: kept\n");
  ScopedEnv env("ATES_UNIT_TEST_KEY", "from-env");
  EXPECT_EQ(c.GetString("unit_test.key"), "from-env");
  EXPECT_EQ(c.GetString("unit_test.other"), "kept");
}

TEST(Config, EnvironmentOverridesTheFallback) {
  auto c = Config::FromString("");
  ScopedEnv env("ATES_UNIT_TEST_ONLY_ENV", "42");
  EXPECT_EQ(c.GetInt("unit_test.only_env", 7), 42);
  EXPECT_EQ(c.GetInt("unit_test.not_set", 7), 7);
}

TEST(Config, AnEmptyEnvironmentValueStillOverrides) {
  auto c = Config::FromString("unit_test:\n  listen: 127.0.0.1:9151\n");
  ScopedEnv env("ATES_UNIT_TEST_LISTEN", "");
  EXPECT_EQ(c.GetString("unit_test.listen"), "");
}

TEST(Config, EnvironmentValueIsParsedLikeTheFile) {
  auto c = Config::FromString("unit_test:\n  wait: 1s\n");
  ScopedEnv env("ATES_UNIT_TEST_WAIT", "2m");
  EXPECT_EQ(c.GetDuration("unit_test.wait"), 2min);
}

TEST(Config, UnknownKeysAreReportedByName) {
  auto c = Config::FromString("log:\n  level: info\n  colour: red\nextra:\n  deep:\n    key: 1\n");
  c.GetString("log.level");
  auto message = ErrorOf([&] { c.CheckNoUnknownKeys(); });
  EXPECT_THAT(message, AllOf(HasSubstr("'log.colour'"), HasSubstr("'extra.deep.key'"),
                             Not(HasSubstr("log.level"))));
}

TEST(Config, NoErrorWhenEveryKeyWasRead) {
  auto c = Config::FromString("a: 1\nb:\n  c: x\n");
  c.GetInt("a");
  c.GetString("b.c");
  EXPECT_NO_THROW(c.CheckNoUnknownKeys());
}

TEST(Config, KeysReadWithAFallbackCountAsKnown) {
  auto c = Config::FromString("optional: yes\n");
  c.GetBool("optional", false);
  EXPECT_NO_THROW(c.CheckNoUnknownKeys());
}

TEST(Config, MissingKeyNamesTheKeyAndItsVariable) {
  auto c = Config::FromString("log:\n  level: info\n");
  auto message = ErrorOf([&] { c.GetString("database.url"); });
  EXPECT_THAT(message, AllOf(HasSubstr("database.url"), HasSubstr("ATES_DATABASE_URL")));
}

TEST(Config, MalformedNumbersAndBooleansNameTheKey) {
  auto c = Config::FromString("n: 12abc\nb: maybe\nd: soon\n");
  EXPECT_THAT(ErrorOf([&] { c.GetInt("n"); }), AllOf(HasSubstr("'n'"), HasSubstr("12abc")));
  EXPECT_THAT(ErrorOf([&] { c.GetBool("b"); }), AllOf(HasSubstr("'b'"), HasSubstr("maybe")));
  EXPECT_THAT(ErrorOf([&] { c.GetDuration("d"); }), AllOf(HasSubstr("'d'"), HasSubstr("soon")));
}

TEST(Config, BooleansAcceptTheUsualSpellings) {
  auto c = Config::FromString("a: true\nb: false\nc: yes\nd: no\ne: 1\nf: 0\n");
  EXPECT_TRUE(c.GetBool("a"));
  EXPECT_FALSE(c.GetBool("b"));
  EXPECT_TRUE(c.GetBool("c"));
  EXPECT_FALSE(c.GetBool("d"));
  EXPECT_TRUE(c.GetBool("e"));
  EXPECT_FALSE(c.GetBool("f"));
}

TEST(Config, InvalidYamlIsAConfigError) {
  EXPECT_THROW(Config::FromString("a: [unclosed\n"), ConfigError);
  EXPECT_THROW(Config::FromString("- a\n- b\n"), ConfigError);  // not a mapping
}

TEST(Config, EmptyDocumentHasNoKeys) {
  auto c = Config::FromString("");
  EXPECT_NO_THROW(c.CheckNoUnknownKeys());
  EXPECT_EQ(c.GetString("anything", "fallback"), "fallback");
}

TEST(Config, MissingFileIsAConfigErrorNamingThePath) {
  EXPECT_THAT(ErrorOf([] { Config::FromFile("/nonexistent/ates-unit.yaml"); }),
              HasSubstr("/nonexistent/ates-unit.yaml"));
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(ParseDuration("250ms"), 250ms);
  EXPECT_EQ(ParseDuration("5s"), 5s);
  EXPECT_EQ(ParseDuration("2m"), 2min);
  EXPECT_EQ(ParseDuration("1h"), 1h);
  EXPECT_EQ(ParseDuration("14d"), 14 * 24h);
  EXPECT_EQ(ParseDuration("1.5s"), 1500ms);
  EXPECT_EQ(ParseDuration("0s"), 0ms);
  EXPECT_EQ(ParseDuration("10"), 10s);  // bare numbers are seconds
}

TEST(ParseDuration, RejectsGarbage) {
  for (const char* bad : {"", "s", "5x", "5 s", "fast", "-1s", "1w"}) {
    EXPECT_THROW(ParseDuration(bad), ConfigError) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace ates::platform
