#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "args.hpp"
#include "options.hpp"

namespace ates::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<FlagSpec> Flags() {
  return {{"title", '\0', "TITLE", "the title"},
          {"all", '\0', "", "a switch"},
          {"output", 'o', "FORMAT", "format"},
          {"help", 'h', "", "help"}};
}

ParseResult Parse(std::vector<std::string> argv, std::vector<PositionalSpec> positionals = {}) {
  return ParseArgs(argv, Flags(), positionals);
}

TEST(ParseArgs, LongFlagsWithSpaceOrEquals) {
  auto r = Parse({"--title", "Fix it", "--output=json"});
  EXPECT_EQ(r.args.Get("title"), "Fix it");
  EXPECT_EQ(r.args.Get("output"), "json");
  EXPECT_FALSE(r.args.Has("all"));
}

TEST(ParseArgs, ShortFlagsSeparateOrJoined) {
  EXPECT_EQ(Parse({"-o", "json"}).args.Get("output"), "json");
  EXPECT_EQ(Parse({"-ojson"}).args.Get("output"), "json");
}

TEST(ParseArgs, SwitchTakesNoValue) {
  EXPECT_TRUE(Parse({"--all"}).args.Has("all"));
  EXPECT_THROW(Parse({"--all=yes"}), UsageError);
}

TEST(ParseArgs, ValueMayStartWithDash) {
  EXPECT_EQ(Parse({"--title", "-12"}).args.Get("title"), "-12");
}

TEST(ParseArgs, EmptyValueIsKept) {
  auto r = Parse({"--title="});
  EXPECT_TRUE(r.args.Has("title"));
  EXPECT_EQ(r.args.Get("title", "fallback"), "");
}

TEST(ParseArgs, UnknownFlagAndMissingValue) {
  try {
    Parse({"--bogus"});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--bogus"));
  }
  EXPECT_THROW(Parse({"-x"}), UsageError);
  EXPECT_THROW(Parse({"--title"}), UsageError);
}

TEST(ParseArgs, Positionals) {
  std::vector<PositionalSpec> id = {{"ID", true, "id"}};
  auto r = Parse({"abc", "-o", "json"}, id);
  EXPECT_THAT(r.args.positionals(), ElementsAre("abc"));
  EXPECT_EQ(r.args.Positional(1), "");
  EXPECT_THROW(Parse({}, id), UsageError);
  EXPECT_THROW(Parse({"a", "b"}, id), UsageError);
  EXPECT_NO_THROW(Parse({}, {{"ID", false, "optional"}}));
}

TEST(ParseArgs, DoubleDashEndsFlags) {
  auto r = Parse({"--", "-not-a-flag"}, {{"ID", true, "id"}});
  EXPECT_THAT(r.args.positionals(), ElementsAre("-not-a-flag"));
}

TEST(ParseArgs, HelpSkipsPositionalCheck) {
  auto r = Parse({"-h"}, {{"ID", true, "id"}});
  EXPECT_TRUE(r.args.help());
}

TEST(ParseArgs, StopAtPositionalForGlobalFlags) {
  std::vector<std::string> argv = {"-o", "json", "tasks", "list", "--all"};
  auto r = ParseArgs(argv, Flags(), {}, {.stop_at_positional = true});
  EXPECT_EQ(r.consumed, 2u);
  EXPECT_EQ(r.args.Get("output"), "json");
  EXPECT_TRUE(r.args.positionals().empty());
}

TEST(ParsedArgs, MergeFromOverrides) {
  ParsedArgs a;
  a.Set("output", "table");
  a.Set("title", "x");
  ParsedArgs b;
  b.Set("output", "json");
  a.MergeFrom(b);
  EXPECT_EQ(a.Get("output"), "json");
  EXPECT_EQ(a.Get("title"), "x");
}

TEST(OneOf, AcceptsListedValuesOnly) {
  EXPECT_EQ(OneOf("--status", "open", {"open", "completed"}), "open");
  try {
    OneOf("--status", "closed", {"open", "completed"});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("open|completed"));
  }
}

TEST(Usage, ListsFlagsPositionalsGlobalsAndExample) {
  CommandSpec spec{.path = {"tasks", "get"},
                   .summary = "Show one task.",
                   .flags = {{"title", '\0', "TITLE", "the title"}},
                   .positionals = {{"ID", true, "task id"}},
                   .example = "atesctl tasks get 42"};
  std::string text = Usage(spec, GlobalFlags());
  EXPECT_THAT(text, HasSubstr("Usage: atesctl tasks get [flags] ID"));
  EXPECT_THAT(text, HasSubstr("--title TITLE"));
  EXPECT_THAT(text, HasSubstr("-o, --output FORMAT"));
  EXPECT_THAT(text, HasSubstr("--timeout DURATION"));
  EXPECT_THAT(text, HasSubstr("Example:\n  atesctl tasks get 42"));
}

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ResolveOptions, Defaults) {
  auto o = ResolveOptions(ParsedArgs(), Env({{"HOME", "/home/p"}}));
  EXPECT_EQ(o.output, OutputFormat::kTable);
  EXPECT_EQ(o.Address(Service::kAuth), "127.0.0.1:50051");
  EXPECT_EQ(o.Address(Service::kScheduler), "127.0.0.1:50055");
  EXPECT_EQ(o.token_file, "/home/p/.config/ates/token");
  EXPECT_TRUE(o.default_token_file);
  EXPECT_EQ(o.timeout, std::chrono::seconds(10));
}

TEST(ResolveOptions, FlagBeatsEnvBeatsDefault) {
  ParsedArgs args;
  args.Set("tasks", "10.0.0.1:1");
  args.Set("output", "json");
  args.Set("timeout", "500ms");
  auto o = ResolveOptions(args, Env({{"ATES_TASKS_ADDR", "env:2"},
                                     {"ATES_BILLING_ADDR", "env:3"},
                                     {"XDG_CONFIG_HOME", "/xdg"},
                                     {"HOME", "/home/p"}}));
  EXPECT_EQ(o.Address(Service::kTasks), "10.0.0.1:1");
  EXPECT_EQ(o.Address(Service::kBilling), "env:3");
  EXPECT_EQ(o.Address(Service::kAnalytics), "127.0.0.1:50054");
  EXPECT_EQ(o.output, OutputFormat::kJson);
  EXPECT_EQ(o.timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(o.token_file, "/xdg/ates/token");
}

TEST(ResolveOptions, ExplicitTokenFileAndBadValues) {
  ParsedArgs args;
  args.Set("token-file", "/tmp/t");
  auto o = ResolveOptions(args, Env({}));
  EXPECT_EQ(o.token_file, "/tmp/t");
  EXPECT_FALSE(o.default_token_file);

  ParsedArgs bad_output;
  bad_output.Set("output", "yaml");
  EXPECT_THROW(ResolveOptions(bad_output, Env({})), UsageError);
  ParsedArgs bad_timeout;
  bad_timeout.Set("timeout", "soon");
  EXPECT_THROW(ResolveOptions(bad_timeout, Env({})), UsageError);
}

TEST(ResolveOptions, CsvIsAnOutputFormat) {
  ParsedArgs args;
  args.Set("output", "csv");
  EXPECT_EQ(ResolveOptions(args, Env({})).output, OutputFormat::kCsv);
}

TEST(ResolveOptions, NoHomeLeavesTokenFileEmpty) {
  EXPECT_EQ(ResolveOptions(ParsedArgs(), Env({})).token_file, "");
}

}  // namespace
}  // namespace ates::ctl
