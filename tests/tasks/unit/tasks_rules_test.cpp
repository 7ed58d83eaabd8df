// Validation of CreateTask input (task_rules): every bad field is refused with
// INVALID_ARGUMENT and named in the violations. Pure, no I/O.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ates/platform/error.hpp"
#include "task_rules.hpp"

namespace ates::tasks {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

NewTask Valid() { return NewTask{"Fix the beak", "UP-42", "Some words", "req-1"}; }

// The fields named by Validate (empty when it accepts the task). Fails the
// test when it throws anything but an INVALID_ARGUMENT ates::Error.
std::vector<std::string> Violations(const NewTask& t) {
  try {
    Validate(t);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    EXPECT_FALSE(e.violations().empty()) << "INVALID_ARGUMENT without field violations";
    std::vector<std::string> fields;
    for (const auto& v : e.violations()) {
      EXPECT_FALSE(v.description.empty()) << v.field;
      fields.push_back(v.field);
    }
    return fields;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception: " << e.what();
    return {"<unexpected>"};
  }
  return {};
}

NewTask WithTitle(std::string title) {
  auto t = Valid();
  t.title = std::move(title);
  return t;
}

NewTask WithJira(std::string jira) {
  auto t = Valid();
  t.jira_id = std::move(jira);
  return t;
}

TEST(ValidateNewTask, AcceptsAValidTaskAndOptionalFieldsLeftEmpty) {
  EXPECT_THAT(Violations(Valid()), IsEmpty());
  EXPECT_THAT(Violations(NewTask{"Only a title", "", "", ""}), IsEmpty());
}

TEST(ValidateNewTask, TitleIsRequired) {
  EXPECT_THAT(Violations(WithTitle("")), ElementsAre("title"));
  EXPECT_THAT(Violations(WithTitle("   ")), ElementsAre("title"));
}

TEST(ValidateNewTask, TitleAtMost200Characters) {
  EXPECT_THAT(Violations(WithTitle(std::string(200, 'a'))), IsEmpty());
  EXPECT_THAT(Violations(WithTitle(std::string(201, 'a'))), ElementsAre("title"));
  EXPECT_THAT(Violations(WithTitle(std::string(5000, 'a'))), ElementsAre("title"));
}

TEST(ValidateNewTask, TitleLimitCountsCharactersNotUtf8Bytes) {
  // The API promises "1-200 characters": 200 two-byte letters (400 bytes) fit,
  // 201 do not.
  std::string two_byte = "\xc3\xbc";  // U+00FC
  std::string cyrillic = "\xd0\x96";  // U+0416
  std::string t200, t201;
  for (int i = 0; i < 200; ++i) t200 += (i % 2 ? two_byte : cyrillic);
  t201 = t200 + two_byte;
  EXPECT_THAT(Violations(WithTitle(t200)), IsEmpty());
  EXPECT_THAT(Violations(WithTitle(t201)), ElementsAre("title"));
  // A four-byte character counts once too.
  std::string emoji = "\xf0\x9f\x90\xa6";  // U+1F426 bird
  std::string birds;
  for (int i = 0; i < 200; ++i) birds += emoji;
  EXPECT_THAT(Violations(WithTitle(birds)), IsEmpty());
  EXPECT_THAT(Violations(WithTitle(birds + "x")), ElementsAre("title"));
}

TEST(ValidateNewTask, TitleMayNotContainSquareBrackets) {
  for (const char* bad : {"[UP-42] Fix it", "Fix [it]", "a]b", "a[b", "[", "]", "[]"}) {
    EXPECT_THAT(Violations(WithTitle(bad)), ElementsAre("title")) << bad;
  }
  // Other brackets are fine.
  EXPECT_THAT(Violations(WithTitle("Fix (it) {now} <please>")), IsEmpty());
}

TEST(ValidateNewTask, TitleMayNotContainControlCharacters) {
  for (std::string bad :
       {std::string("line\nbreak"), std::string("tab\there"), std::string("cr\rhere"),
        std::string("nul\0here", 8), std::string("del\x7fhere"), std::string("esc\x1b[0m")}) {
    auto fields = Violations(WithTitle(bad));
    ASSERT_FALSE(fields.empty()) << "accepted a control character";
    for (const auto& f : fields) EXPECT_EQ(f, "title");
  }
  // Non-ASCII text is not a control character.
  EXPECT_THAT(Violations(WithTitle("Почини клюв")), IsEmpty());
}

TEST(ValidateNewTask, JiraIdFormats) {
  for (const char* good : {"", "UP-42", "A-1", "UP2-7", "ABC123-9876543210"}) {
    EXPECT_THAT(Violations(WithJira(good)), IsEmpty()) << good;
    EXPECT_TRUE(IsValidJiraId(good)) << good;
  }
  for (const char* bad : {"up-42", "Up-42", "UP42", "-42", "UP-", "-", "UP-4a", "2UP-4", "UP--4",
                          "UP-4-2", " UP-42", "UP-42 ", "[UP-42]", "UP_42", "UP-+4", "ÜP-4"}) {
    EXPECT_THAT(Violations(WithJira(bad)), ElementsAre("jira_id")) << bad;
    EXPECT_FALSE(IsValidJiraId(bad)) << bad;
  }
}

TEST(ValidateNewTask, JiraIdAtMost32Characters) {
  std::string key30 = "UP-" + std::string(29, '1');  // 32 in all
  ASSERT_EQ(key30.size(), 32u);
  EXPECT_THAT(Violations(WithJira(key30)), IsEmpty());
  EXPECT_THAT(Violations(WithJira(key30 + "1")), ElementsAre("jira_id"));
}

TEST(ValidateNewTask, DescriptionAtMost10000Characters) {
  auto t = Valid();
  t.description = std::string(10000, 'd');
  EXPECT_THAT(Violations(t), IsEmpty());
  t.description = std::string(10001, 'd');
  EXPECT_THAT(Violations(t), ElementsAre("description"));
  // Multi-line descriptions are fine (only the title is one line).
  t.description = "first line\nsecond line\ttabbed";
  EXPECT_THAT(Violations(t), IsEmpty());
}

TEST(ValidateNewTask, RequestIdAtMost128Characters) {
  auto t = Valid();
  t.request_id = std::string(128, 'r');
  EXPECT_THAT(Violations(t), IsEmpty());
  t.request_id = std::string(129, 'r');
  EXPECT_THAT(Violations(t), ElementsAre("request_id"));
}

TEST(ValidateNewTask, NamesEveryBadFieldAtOnce) {
  NewTask t{"[UP-1] bad", "bad id", std::string(10001, 'x'), std::string(200, 'r')};
  EXPECT_THAT(Violations(t), UnorderedElementsAre("title", "jira_id", "description", "request_id"));
}

}  // namespace
}  // namespace ates::tasks
