// The reconciliation's comparison (events on TASKS vs the ledger's postings),
// when reading the stream may stop, and how a stream message is read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ates/events/tasks/v1/task_events.pb.h"
#include "reconcile.hpp"
#include "task_stream.hpp"

namespace ates::billing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kDay = "2026-01-05";
constexpr int64_t kNoon = 1767614400LL * 1'000'000;  // 2026-01-05T12:00:00Z in microseconds
constexpr const char* kAlice = "a0000000-0000-7000-8000-00000000000a";
constexpr const char* kBob = "b0000000-0000-7000-8000-00000000000b";
constexpr const char* kTask1 = "10000000-0000-7000-8000-000000000001";
constexpr const char* kTask2 = "20000000-0000-7000-8000-000000000002";

// Event ids: e1, e2, ... as UUIDs.
std::string Id(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "e0000000-0000-7000-8000-%012d", n);
  return buf;
}

TaskEvent Assigned(int id, const char* task, const char* account, int64_t at = kNoon) {
  return {Id(id), TaskEvent::Kind::kAssigned, task, account, at, static_cast<uint64_t>(id)};
}
TaskEvent Completed(int id, const char* task, const char* account, int64_t at = kNoon) {
  return {Id(id), TaskEvent::Kind::kCompleted, task, account, at, static_cast<uint64_t>(id)};
}

// The posting the ledger makes for an event, with the prices below.
LedgerPosting PostingOf(const TaskEvent& e, const std::string& date = kDay) {
  bool fee = e.kind == TaskEvent::Kind::kAssigned;
  int64_t amount = e.task_id == kTask1 ? (fee ? -1500 : 3000) : (fee ? -1000 : 2500);
  return {
      e.id,         fee ? "assign_fee" : "completion_reward", e.account_id, e.task_id, amount, date,
      e.occurred_us};
}

DayInput Day(std::vector<TaskEvent> events, std::vector<LedgerPosting> postings) {
  DayInput in;
  in.business_date = kDay;
  in.events = std::move(events);
  in.postings = std::move(postings);
  in.prices[kTask1] = {1500, 3000};
  in.prices[kTask2] = {1000, 2500};
  for (const auto& e : in.events) in.applied.insert(e.id);
  return in;
}

const AccountReconciliation* AccountOf(const DayReconciliation& r, const std::string& id) {
  for (const auto& a : r.accounts) {
    if (a.account_id == id) return &a;
  }
  return nullptr;
}

TEST(CompareDay, EveryEventWithItsPostingIsClean) {
  auto a1 = Assigned(1, kTask1, kAlice), c1 = Completed(2, kTask1, kAlice),
       a2 = Assigned(3, kTask2, kAlice), a3 = Assigned(4, kTask2, kBob);  // a shuffle
  auto r = CompareDay(
      Day({a1, c1, a2, a3}, {PostingOf(a1), PostingOf(c1), PostingOf(a2), PostingOf(a3)}));
  EXPECT_EQ(r.Differences(), 0);
  EXPECT_THAT(r.differences, IsEmpty());
  EXPECT_EQ(r.assigned_events, 3);
  EXPECT_EQ(r.completed_events, 1);
  EXPECT_EQ(r.postings, 4);
  ASSERT_EQ(r.accounts.size(), 2u);
  const auto* alice = AccountOf(r, kAlice);
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->assigned_events, 2);
  EXPECT_EQ(alice->completed_events, 1);
  EXPECT_EQ(alice->postings, 3);
  EXPECT_EQ(alice->expected_cents, -1500 + 3000 - 1000);
  EXPECT_EQ(alice->posted_cents, alice->expected_cents);
  const auto* bob = AccountOf(r, kBob);
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->expected_cents, -1000);
  EXPECT_EQ(bob->Differences(), 0);
}

TEST(CompareDay, AnEventWithoutPostingIsMissingForItsAssigneeWithWhatItCallsFor) {
  auto a1 = Assigned(1, kTask1, kAlice), c1 = Completed(2, kTask1, kAlice),
       a2 = Assigned(3, kTask2, kBob);
  auto r = CompareDay(Day({a1, c1, a2}, {PostingOf(a1), PostingOf(a2)}));
  EXPECT_EQ(r.missing, 1);
  EXPECT_EQ(r.Differences(), 1);
  ASSERT_EQ(r.differences.size(), 1u);
  const auto& d = r.differences[0];
  EXPECT_EQ(d.kind, DifferenceKind::kMissing);
  EXPECT_EQ(d.event_id, c1.id);
  EXPECT_EQ(d.posting_kind, "completion_reward");
  EXPECT_EQ(d.account_id, kAlice);
  EXPECT_EQ(d.task_id, kTask1);
  EXPECT_EQ(d.amount_cents, 3000);
  EXPECT_THAT(d.detail, HasSubstr("applied the event, but its posting is gone"));
  EXPECT_EQ(AccountOf(r, kAlice)->missing, 1);
  EXPECT_EQ(AccountOf(r, kAlice)->expected_cents, 1500);
  EXPECT_EQ(AccountOf(r, kAlice)->posted_cents, -1500);
  EXPECT_EQ(AccountOf(r, kBob)->missing, 0);
}

TEST(CompareDay, AMissingPostingSaysWhetherBillingAppliedOrDeadLetteredTheEvent) {
  auto a1 = Assigned(1, kTask1, kAlice), a2 = Assigned(2, kTask2, kAlice),
       a3 = Assigned(3, kTask2, kBob);
  auto in = Day({a1, a2, a3}, {});
  in.applied = {a1.id};
  in.dead_lettered[a2.id] = "handler failed: boom";
  auto r = CompareDay(in);
  ASSERT_EQ(r.missing, 3);
  std::map<std::string, std::string> detail;
  for (const auto& d : r.differences) detail[d.event_id] = d.detail;
  EXPECT_THAT(detail[a1.id], HasSubstr("posting is gone"));
  EXPECT_THAT(detail[a2.id], HasSubstr("dead-lettered the event: handler failed: boom"));
  EXPECT_THAT(detail[a3.id], HasSubstr("has not applied the event"));
}

TEST(CompareDay, AnEventTwiceOnTheStreamNeedsOnePosting) {
  auto a1 = Assigned(1, kTask1, kAlice);
  auto copy = a1;
  copy.stream_seq = 99;
  auto r = CompareDay(Day({a1, copy}, {PostingOf(a1)}));
  EXPECT_EQ(r.Differences(), 0);
  EXPECT_EQ(r.assigned_events, 1);
  EXPECT_EQ(r.stream_copies, 1);
  EXPECT_EQ(AccountOf(r, kAlice)->expected_cents, -1500);
}

TEST(CompareDay, APostingWhoseIdIsNoEventOfTheDayIsUnexpected) {
  auto a1 = Assigned(1, kTask1, kAlice);
  auto stray = PostingOf(Assigned(7, kTask2, kBob));  // no such event on the stream
  auto r = CompareDay(Day({a1}, {PostingOf(a1), stray}));
  EXPECT_EQ(r.unexpected, 1);
  EXPECT_EQ(r.duplicated, 0);
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_EQ(r.differences[0].kind, DifferenceKind::kUnexpected);
  EXPECT_EQ(r.differences[0].event_id, stray.id);
  EXPECT_EQ(r.differences[0].amount_cents, -1000);
  EXPECT_EQ(AccountOf(r, kBob)->unexpected, 1);
  EXPECT_EQ(AccountOf(r, kBob)->posted_cents, -1000);
  EXPECT_EQ(AccountOf(r, kBob)->expected_cents, 0);
}

TEST(CompareDay, ASecondPostingForAnAssignmentTheStreamShowsOnceIsDuplicated) {
  auto a1 = Assigned(1, kTask1, kAlice);
  auto again = PostingOf(a1);
  again.id = Id(8);  // the same assignment posted under another id
  auto r = CompareDay(Day({a1}, {PostingOf(a1), again}));
  EXPECT_EQ(r.duplicated, 1);
  EXPECT_EQ(r.unexpected, 0);
  ASSERT_EQ(r.differences.size(), 1u);
  EXPECT_EQ(r.differences[0].kind, DifferenceKind::kDuplicated);
  EXPECT_EQ(r.differences[0].event_id, again.id);
  EXPECT_THAT(r.differences[0].detail, HasSubstr("2 assign_fee postings for task"));
  EXPECT_EQ(AccountOf(r, kAlice)->duplicated, 1);
  EXPECT_EQ(AccountOf(r, kAlice)->posted_cents, -3000);
}

TEST(CompareDay, StrayPostingsBeyondTheTasksEventsAreDuplicatedTheRestUnexpected) {
  // Two assignments on the stream, one of them without its posting, and two
  // postings under foreign ids: one is a second posting, the other cannot be
  // told apart from a stray.
  auto a1 = Assigned(1, kTask1, kAlice), a2 = Assigned(2, kTask1, kBob);
  auto x = PostingOf(a1), y = PostingOf(a2);
  x.id = Id(8);
  y.id = Id(9);
  auto r = CompareDay(Day({a1, a2}, {PostingOf(a1), x, y}));
  EXPECT_EQ(r.missing, 1);
  EXPECT_EQ(r.duplicated, 1);
  EXPECT_EQ(r.unexpected, 1);
  EXPECT_EQ(r.Differences(), 3);
}

TEST(CompareDay, APostingThatDisagreesWithItsEventIsMismatched) {
  auto a1 = Assigned(1, kTask1, kAlice), c1 = Completed(2, kTask1, kAlice),
       a2 = Assigned(3, kTask2, kAlice);
  auto wrong_account = PostingOf(a1);
  wrong_account.account_id = kBob;
  auto wrong_amount = PostingOf(c1);
  wrong_amount.amount_cents = 2999;
  auto wrong_kind = PostingOf(a2);
  wrong_kind.kind = "completion_reward";
  auto r = CompareDay(Day({a1, c1, a2}, {wrong_account, wrong_amount, wrong_kind}));
  EXPECT_EQ(r.mismatched, 3);
  EXPECT_EQ(r.missing + r.unexpected + r.duplicated, 0);
  std::map<std::string, std::string> detail;
  for (const auto& d : r.differences) detail[d.event_id] = d.detail;
  EXPECT_THAT(detail[a1.id], HasSubstr("posted to account " + std::string(kBob)));
  EXPECT_THAT(detail[c1.id], HasSubstr("amount 2999 cents, the task's price gives 3000"));
  EXPECT_THAT(detail[a2.id], HasSubstr("posted as completion_reward for a tasks.task.assigned"));
  // Counted for the event's assignee.
  EXPECT_EQ(AccountOf(r, kAlice)->mismatched, 3);
}

TEST(CompareDay, APostingBeforeItsDayOrAtAnotherTimeIsMismatched) {
  auto a1 = Assigned(1, kTask1, kAlice), a2 = Assigned(2, kTask2, kAlice);
  auto early = PostingOf(a1, "2026-01-04");
  auto moved = PostingOf(a2);
  moved.occurred_us += 1'000'000;
  auto r = CompareDay(Day({a1, a2}, {early, moved}));
  EXPECT_EQ(r.mismatched, 2);
  std::map<std::string, std::string> detail;
  for (const auto& d : r.differences) detail[d.event_id] = d.detail;
  EXPECT_THAT(detail[a1.id], HasSubstr("posted to 2026-01-04, before the day"));
  EXPECT_THAT(detail[a2.id], HasSubstr("occurred at 2026-01-05T12:00:01"));
}

TEST(CompareDay, ALatePostingOnTheFirstOpenDayMatchesItsEventById) {
  // The day was closed before billing heard of the event: it went to the next day.
  auto a1 = Assigned(1, kTask1, kAlice, kNoon + 11LL * 3600 * 1'000'000);
  auto r = CompareDay(Day({a1}, {PostingOf(a1, "2026-01-06")}));
  EXPECT_EQ(r.Differences(), 0);
  EXPECT_EQ(r.postings, 1);
}

TEST(CompareDay, ATaskWithoutAPriceMakesItsPostingsMismatchedAndItsMissingPostingsZero) {
  auto a1 = Assigned(1, "30000000-0000-7000-8000-000000000003", kAlice),
       a2 = Assigned(2, "30000000-0000-7000-8000-000000000003", kAlice);
  auto p1 = PostingOf(a1);
  p1.amount_cents = -1234;
  auto r = CompareDay(Day({a1, a2}, {p1}));
  EXPECT_EQ(r.mismatched, 1);
  EXPECT_EQ(r.missing, 1);
  for (const auto& d : r.differences) {
    if (d.kind == DifferenceKind::kMissing) {
      EXPECT_EQ(d.amount_cents, 0);
    } else {
      EXPECT_EQ(d.kind, DifferenceKind::kMismatched);
      EXPECT_THAT(d.detail, HasSubstr("no price"));
    }
  }
}

TEST(CompareDay, DifferencesComeMissingFirstThenByTime) {
  auto a1 = Assigned(1, kTask1, kAlice, kNoon + 5), a2 = Assigned(2, kTask2, kAlice, kNoon + 1);
  auto stray = PostingOf(Assigned(3, kTask2, kBob, kNoon));
  auto r = CompareDay(Day({a1, a2}, {stray}));
  EXPECT_THAT(r.differences,
              ElementsAre(Field(&Difference::event_id, a2.id), Field(&Difference::event_id, a1.id),
                          Field(&Difference::event_id, stray.id)));
  EXPECT_THAT(r.accounts, ElementsAre(Field(&AccountReconciliation::account_id, kAlice),
                                      Field(&AccountReconciliation::account_id, kBob)));
}

TEST(CompareDay, AnEmptyDayIsClean) {
  auto r = CompareDay(Day({}, {}));
  EXPECT_EQ(r.Differences(), 0);
  EXPECT_THAT(r.accounts, IsEmpty());
  EXPECT_EQ(r.business_date, kDay);
}

TEST(ReadStop, StopsOnlyPastTheGraceAndOnceEveryPostingMetItsEvent) {
  ReadStop stop(1000, {"p1", "p2"});
  EXPECT_FALSE(stop.Done(500));
  EXPECT_FALSE(stop.Done(1001));
  stop.Saw("p1");
  stop.Saw("other");
  EXPECT_FALSE(stop.Done(5000));
  EXPECT_EQ(stop.waiting(), 1u);
  stop.Saw("p2");
  EXPECT_FALSE(stop.Done(1000));
  EXPECT_TRUE(stop.Done(1001));
}

TEST(ReadStop, WithNothingToMeetItStopsRightAfterTheGrace) {
  ReadStop stop(1000, {});
  EXPECT_FALSE(stop.Done(999));
  EXPECT_TRUE(stop.Done(1001));
}

TEST(StreamHoldsSince, AStreamThatLostMessagesAfterTheStartCannotTellTheDay) {
  const int64_t start = 1000;
  EXPECT_TRUE(StreamHoldsSince(1, 10, 5000, 9000, start)) << "nothing ever removed";
  EXPECT_TRUE(StreamHoldsSince(1, 0, 0, 0, start)) << "empty, never written";
  EXPECT_TRUE(StreamHoldsSince(50, 10, 900, 9000, start)) << "removed only older messages";
  EXPECT_FALSE(StreamHoldsSince(50, 10, 1100, 9000, start)) << "the day's first hours are gone";
  EXPECT_TRUE(StreamHoldsSince(50, 0, 0, 900, start)) << "all removed, none from the day";
  EXPECT_FALSE(StreamHoldsSince(50, 0, 0, 1100, start)) << "all removed, some from the day";
}

std::string AssignedBody(const std::string& task, const std::string& assignee, int64_t seconds,
                         int32_t nanos) {
  events::tasks::v1::TaskAssigned a;
  a.set_task_id(task);
  a.set_assignee_id(assignee);
  a.mutable_assigned_at()->set_seconds(seconds);
  a.mutable_assigned_at()->set_nanos(nanos);
  return a.SerializeAsString();
}

constexpr const char* kProducer = "ates-tasks";

TEST(DecodeTaskEvent, ReadsAnAssignedEventWithItsTimeInMicroseconds) {
  auto e = DecodeTaskEvent("tasks.task.assigned", Id(1), "tasks.task.assigned", kProducer, "1",
                           AssignedBody(kTask1, kAlice, 1767614400, 123'456'600), 42);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->id, Id(1));
  EXPECT_EQ(e->kind, TaskEvent::Kind::kAssigned);
  EXPECT_EQ(e->task_id, kTask1);
  EXPECT_EQ(e->account_id, kAlice);
  EXPECT_EQ(e->occurred_us, kNoon + 123'457);  // rounded as timestamptz rounds
  EXPECT_EQ(e->stream_seq, 42u);
}

TEST(DecodeTaskEvent, ReadsACompletedEvent) {
  events::tasks::v1::TaskCompleted c;
  c.set_task_id(kTask2);
  c.set_assignee_id(kBob);
  c.mutable_completed_at()->set_seconds(1767614400);
  auto e = DecodeTaskEvent("tasks.task.completed", Id(2), "tasks.task.completed", kProducer, "1",
                           c.SerializeAsString(), 7);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, TaskEvent::Kind::kCompleted);
  EXPECT_EQ(e->account_id, kBob);
  EXPECT_EQ(e->occurred_us, kNoon);
}

TEST(DecodeTaskEvent, SkipsWhatTheLedgerWouldNotPost) {
  const std::string body = AssignedBody(kTask1, kAlice, 1767614400, 0);
  const char* subject = "tasks.task.assigned";
  EXPECT_TRUE(DecodeTaskEvent(subject, Id(1), subject, kProducer, "1", body, 1).has_value());
  EXPECT_FALSE(
      DecodeTaskEvent(subject, "not-a-uuid", subject, kProducer, "1", body, 1).has_value());
  EXPECT_FALSE(
      DecodeTaskEvent(subject, Id(1), "tasks.task.completed", kProducer, "1", body, 1).has_value());
  EXPECT_FALSE(DecodeTaskEvent(subject, Id(1), subject, kProducer, "2", body, 1).has_value());
  EXPECT_FALSE(
      DecodeTaskEvent(subject, Id(1), subject, kProducer, "1", "\xff\xff garbage", 1).has_value());
  EXPECT_FALSE(DecodeTaskEvent(subject, Id(1), subject, kProducer, "1",
                               AssignedBody("not-a-task", kAlice, 1767614400, 0), 1)
                   .has_value());
  // A forged envelope (ADR 15): not ates-tasks' event, so nothing the ledger posts.
  EXPECT_FALSE(DecodeTaskEvent(subject, Id(1), subject, "ates-billing", "1", body, 1).has_value());
  EXPECT_FALSE(DecodeTaskEvent(subject, Id(1), subject, "", "1", body, 1).has_value());
  EXPECT_FALSE(
      DecodeTaskEvent("tasks.task.created", Id(1), "tasks.task.created", kProducer, "1", body, 1)
          .has_value());
}

}  // namespace
}  // namespace ates::billing
