// tasks.task.created v1 -> v2 (ADR 0007): SplitLegacyTitle and the upcaster,
// and the task events in the schema registry. Pure, no I/O.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "ates/contracts/upcasters.hpp"
#include "ates/events/tasks/v1/task_events.pb.h"
#include "ates/events/tasks/v2/task_events.pb.h"
#include "ates/platform/events.hpp"
#include "task_rules.hpp"

namespace ates::events {
namespace {

namespace t1 = ::ates::events::tasks::v1;
namespace t2 = ::ates::events::tasks::v2;
using Split = std::pair<std::string, std::string>;
using ::ates::contracts::SplitLegacyTitle;
using ::ates::contracts::UpcastTaskCreated;

TEST(SplitLegacyTitle, LeadingKeyBecomesJiraIdAndTheRestTheTitle) {
  EXPECT_EQ(SplitLegacyTitle("[UP-42] Fix it"), Split("UP-42", "Fix it"));
  EXPECT_EQ(SplitLegacyTitle("[UP-42]Fix it"), Split("UP-42", "Fix it"));
  EXPECT_EQ(SplitLegacyTitle("[A-1] x"), Split("A-1", "x"));
}

TEST(SplitLegacyTitle, TitleWithoutKeyIsKeptWhole) {
  EXPECT_EQ(SplitLegacyTitle("Fix it"), Split("", "Fix it"));
  EXPECT_EQ(SplitLegacyTitle("UP-42 Fix it"), Split("", "UP-42 Fix it"));
  EXPECT_EQ(SplitLegacyTitle(""), Split("", ""));
}

TEST(SplitLegacyTitle, WhitespaceAroundKeyAndTitleIsTrimmed) {
  EXPECT_EQ(SplitLegacyTitle("   [UP-42]    Fix it   "), Split("UP-42", "Fix it"));
  EXPECT_EQ(SplitLegacyTitle("[ UP-42 ] Fix it"), Split("UP-42", "Fix it"));
  EXPECT_EQ(SplitLegacyTitle("  Fix it  "), Split("", "Fix it"));
  // Tabs and line breaks are whitespace too (the backfill in ADR 0007 uses \s).
  EXPECT_EQ(SplitLegacyTitle("\t[UP-42]\tFix it\n"), Split("UP-42", "Fix it"));
}

TEST(SplitLegacyTitle, BracketsElsewhereBecomeParentheses) {
  EXPECT_EQ(SplitLegacyTitle("Fix [this] now"), Split("", "Fix (this) now"));
  EXPECT_EQ(SplitLegacyTitle("Fix it [UP-42]"), Split("", "Fix it (UP-42)"));
  // A key that is not closed, empty, or nested is no key.
  EXPECT_EQ(SplitLegacyTitle("[UP-42 Fix it"), Split("", "(UP-42 Fix it"));
  EXPECT_EQ(SplitLegacyTitle("[] Fix it"), Split("", "() Fix it"));
  EXPECT_EQ(SplitLegacyTitle("[[UP-42]] Fix"), Split("", "((UP-42)) Fix"));
  EXPECT_EQ(SplitLegacyTitle("[  ] Fix"), Split("", "(  ) Fix"));
}

TEST(SplitLegacyTitle, ResultNeverHasBracketsInTheTitle) {
  // v2 titles may not contain '[' or ']', whatever the v1 title held.
  for (const char* v1 : {"[UP-42] Fix [later]", "[UP-42] a ] b", "[UP-1][UP-2] twice", "x [y] [z]",
                         "]odd[", "[UP-42]"}) {
    auto [key, title] = SplitLegacyTitle(v1);
    EXPECT_EQ(title.find_first_of("[]"), std::string::npos) << v1 << " -> " << title;
    EXPECT_EQ(key.find_first_of("[]"), std::string::npos) << v1 << " -> " << key;
  }
  EXPECT_EQ(SplitLegacyTitle("[UP-42] Fix [later]"), Split("UP-42", "Fix (later)"));
}

TEST(SplitLegacyTitle, IsIdempotentOnItsOwnOutputTitle) {
  for (const char* v1 : {"[UP-42] Fix it", "Fix [this]", "  plain  "}) {
    auto first = SplitLegacyTitle(v1);
    EXPECT_EQ(SplitLegacyTitle(first.second), Split("", first.second)) << v1;
  }
}

TEST(UpcastTaskCreated, CopiesEveryFieldAndSplitsTheTitle) {
  t1::TaskCreated v1;
  v1.set_task_id("0190a5f4-0000-7000-8000-000000000001");
  v1.set_title("[UP-42] Fix the beak");
  v1.set_description("It squeaks.");
  v1.set_created_by("0190a5f4-0000-7000-8000-000000000002");
  v1.set_assignee_id("0190a5f4-0000-7000-8000-000000000003");
  v1.set_version(7);
  v1.mutable_created_at()->set_seconds(1760000000);
  v1.mutable_created_at()->set_nanos(123456000);

  t2::TaskCreated v2 = UpcastTaskCreated(v1);
  EXPECT_EQ(v2.task_id(), v1.task_id());
  EXPECT_EQ(v2.jira_id(), "UP-42");
  EXPECT_EQ(v2.title(), "Fix the beak");
  EXPECT_EQ(v2.description(), "It squeaks.");
  EXPECT_EQ(v2.created_by(), v1.created_by());
  EXPECT_EQ(v2.assignee_id(), v1.assignee_id());
  EXPECT_EQ(v2.version(), 7);
  EXPECT_EQ(v2.created_at().seconds(), 1760000000);
  EXPECT_EQ(v2.created_at().nanos(), 123456000);
}

TEST(UpcastTaskCreated, TitleWithoutKeyGivesEmptyJiraId) {
  t1::TaskCreated v1;
  v1.set_task_id("t");
  v1.set_title("Clean the [cage]");
  auto v2 = UpcastTaskCreated(v1);
  EXPECT_EQ(v2.jira_id(), "");
  EXPECT_EQ(v2.title(), "Clean the (cage)");
}

TEST(UpcastTaskCreated, UpcastOfAValidV1TitlePassesV2Validation) {
  // What the v2 producer would have accepted: the upcaster yields the same split.
  t1::TaskCreated v1;
  v1.set_title("[UP-7] Feed the popugs");
  auto v2 = UpcastTaskCreated(v1);
  EXPECT_NO_THROW(
      ::ates::tasks::Validate(::ates::tasks::NewTask{v2.title(), v2.jira_id(), "", ""}));
}

TEST(Registry, HoldsBothVersionsOfTaskCreatedAndTheTaskEvents) {
  const auto& reg = Registry::Global();
  const auto* v1 = reg.Find("tasks.task.created", 1);
  const auto* v2 = reg.Find("tasks.task.created", 2);
  ASSERT_NE(v1, nullptr);
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v1->prototype->GetDescriptor()->full_name(), "ates.events.tasks.v1.TaskCreated");
  EXPECT_EQ(v2->prototype->GetDescriptor()->full_name(), "ates.events.tasks.v2.TaskCreated");
  const auto* assigned = reg.Find("tasks.task.assigned", 1);
  const auto* completed = reg.Find("tasks.task.completed", 1);
  ASSERT_NE(assigned, nullptr);
  ASSERT_NE(completed, nullptr);
  EXPECT_EQ(assigned->prototype->GetDescriptor()->full_name(), "ates.events.tasks.v1.TaskAssigned");
  EXPECT_EQ(completed->prototype->GetDescriptor()->full_name(),
            "ates.events.tasks.v1.TaskCompleted");
  EXPECT_EQ(reg.Find("tasks.task.created", 3), nullptr);
}

TEST(Registry, DecodesAV1BodyThatTheUpcasterThenTurnsIntoV2) {
  t1::TaskCreated v1;
  v1.set_task_id("id-1");
  v1.set_title("[UP-9] Sharpen pencils");
  std::string reason;
  auto msg = Registry::Global().Decode("tasks.task.created", 1, v1.SerializeAsString(), &reason);
  ASSERT_NE(msg, nullptr) << reason;
  auto* decoded = dynamic_cast<t1::TaskCreated*>(msg.get());
  ASSERT_NE(decoded, nullptr);
  auto v2 = UpcastTaskCreated(*decoded);
  EXPECT_EQ(v2.task_id(), "id-1");
  EXPECT_EQ(v2.jira_id(), "UP-9");
  EXPECT_EQ(v2.title(), "Sharpen pencils");
}

}  // namespace
}  // namespace ates::events
