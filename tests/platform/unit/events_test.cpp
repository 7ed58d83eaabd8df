#include "ates/platform/events.hpp"

#include <gmock/gmock.h>
#include <google/protobuf/message.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "ates/events/accounts/v1/account_events.pb.h"
#include "ates/platform/error.hpp"
#include "support/test_handler.hpp"

namespace ates::events {
namespace {

using ::testing::HasSubstr;
namespace acc = ::ates::events::accounts::v1;

int64_t UuidMillis(const std::string& uuid) {
  std::string hex = uuid.substr(0, 8) + uuid.substr(9, 4);
  return std::stoll(hex, nullptr, 16);
}

TEST(NewUuid, IsALowerCaseVersion7Uuid) {
  for (int i = 0; i < 100; ++i) {
    auto id = NewUuid();
    ASSERT_EQ(id.size(), 36u) << id;
    EXPECT_TRUE(IsUuid(id)) << id;
    for (size_t pos : {8u, 13u, 18u, 23u}) EXPECT_EQ(id[pos], '-') << id;
    EXPECT_EQ(id[14], '7') << id;                                          // version
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // RFC 4122 variant
    EXPECT_EQ(id.find_first_of("ABCDEF"), std::string::npos) << id;
  }
}

TEST(NewUuid, IsUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) seen.insert(NewUuid());
  EXPECT_EQ(seen.size(), 20000u);
}

TEST(NewUuid, CarriesTheCurrentTimeInMilliseconds) {
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  auto id = NewUuid();
  auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  EXPECT_GE(UuidMillis(id), before);
  EXPECT_LE(UuidMillis(id), after);
}

TEST(NewUuid, SortsByCreationTimeAcrossMilliseconds) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(NewUuid());
    // A new millisecond, so the time prefix must differ (precondition, not assertion).
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]);
}

TEST(IsUuid, AcceptsOnlyTheCanonicalTextForm) {
  EXPECT_TRUE(IsUuid("0190f5c2-3b4a-7c00-8000-000000000001"));
  EXPECT_TRUE(IsUuid("0190F5C2-3B4A-7C00-8000-00000000000A"));
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("0190f5c23b4a7c008000000000000001"));
  EXPECT_FALSE(IsUuid("0190f5c2-3b4a-7c00-8000-00000000000"));
  EXPECT_FALSE(IsUuid("0190f5c2-3b4a-7c00-8000-0000000000001"));
  EXPECT_FALSE(IsUuid("0190f5c2_3b4a-7c00-8000-000000000001"));
  EXPECT_FALSE(IsUuid("0190f5c2-3b4a-7c00-8000-00000000000g"));
  EXPECT_FALSE(IsUuid("{190f5c2-3b4a-7c00-8000-000000000001"));
}

TEST(Registry, FindsTheAccountEvents) {
  const auto& r = Registry::Global();
  for (const char* name :
       {"accounts.account.created", "accounts.account.updated", "accounts.account.role_changed"}) {
    const EventType* t = r.Find(name, 1);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->name, name);
    EXPECT_EQ(t->version, 1);
    ASSERT_NE(t->prototype, nullptr);
  }
  EXPECT_EQ(r.Find("accounts.account.created", 1)->prototype->GetDescriptor()->full_name(),
            "ates.events.accounts.v1.AccountCreated");
  EXPECT_EQ(r.Find("accounts.account.role_changed", 1)->prototype->GetDescriptor()->full_name(),
            "ates.events.accounts.v1.AccountRoleChanged");
}

TEST(Registry, DoesNotFindUnknownNamesOrVersions) {
  const auto& r = Registry::Global();
  EXPECT_EQ(r.Find("accounts.account.created", 99), nullptr);
  EXPECT_EQ(r.Find("accounts.account.exploded", 1), nullptr);
  EXPECT_EQ(r.Find("", 1), nullptr);
}

TEST(Registry, EveryEventIsNamedAfterItsSubjectAndStream) {
  std::set<std::string> known_streams{"ACCOUNTS", "TASKS", "BILLING", "SCHEDULE"};
  std::set<std::pair<std::string, int>> seen;
  for (const auto& t : Registry::Global().All()) {
    EXPECT_TRUE(seen.insert({t.name, t.version}).second) << "registered twice: " << t.name;
    EXPECT_EQ(std::count(t.name.begin(), t.name.end(), '.'), 2) << t.name;
    EXPECT_TRUE(known_streams.count(StreamFor(t.name))) << t.name;
    EXPECT_GE(t.version, 1) << t.name;
  }
}

TEST(Registry, DecodesAKnownEvent) {
  auto payload = test::AccountCreatedPayload("0190f5c2-3b4a-7c00-8000-000000000001", "popug");
  std::string reason;
  auto msg = Registry::Global().Decode("accounts.account.created", 1, payload, &reason);
  ASSERT_NE(msg, nullptr) << reason;
  auto* created = dynamic_cast<acc::AccountCreated*>(msg.get());
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->account().login(), "popug");
  EXPECT_EQ(created->account().version(), 1);
}

TEST(Registry, RefusesUnknownEventsWithAReason) {
  std::string reason;
  EXPECT_EQ(Registry::Global().Decode("accounts.account.exploded", 1, "", &reason), nullptr);
  EXPECT_THAT(reason, HasSubstr("unknown event accounts.account.exploded v1"));
  reason.clear();
  EXPECT_EQ(Registry::Global().Decode("accounts.account.created", 7, "", &reason), nullptr);
  EXPECT_THAT(reason, HasSubstr("v7"));
}

TEST(Registry, RefusesGarbageBodiesWithAReason) {
  std::string reason;
  const std::string garbage = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
  EXPECT_EQ(Registry::Global().Decode("accounts.account.created", 1, garbage, &reason), nullptr);
  EXPECT_THAT(reason, HasSubstr("undecodable"));
  // A truncated length-delimited field is as bad.
  reason.clear();
  EXPECT_EQ(Registry::Global().Decode("accounts.account.created", 1, "\x0a\x10\x01", &reason),
            nullptr);
  EXPECT_THAT(reason, HasSubstr("undecodable"));
}

TEST(StreamFor, IsTheUpperCasedFirstToken) {
  EXPECT_EQ(StreamFor("accounts.account.created"), "ACCOUNTS");
  EXPECT_EQ(StreamFor("tasks.task.assigned"), "TASKS");
  EXPECT_EQ(StreamFor("billing.transaction.applied"), "BILLING");
  EXPECT_EQ(StreamFor("schedule.cycle.closed"), "SCHEDULE");
  EXPECT_EQ(StreamFor("nodots"), "NODOTS");
}

TEST(Make, BuildsARegisteredEventWithAFreshId) {
  acc::AccountCreated body;
  body.mutable_account()->set_login("popug");
  auto a = Make("accounts.account.created", 1, body, "account", "id-1");
  auto b = Make("accounts.account.created", 1, body, "account", "id-1");
  EXPECT_TRUE(IsUuid(a.id));
  EXPECT_NE(a.id, b.id);
  EXPECT_EQ(a.name, "accounts.account.created");
  EXPECT_EQ(a.version, 1);
  EXPECT_EQ(a.aggregate_type, "account");
  EXPECT_EQ(a.aggregate_id, "id-1");
  acc::AccountCreated parsed;
  ASSERT_TRUE(parsed.ParseFromString(a.payload));
  EXPECT_EQ(parsed.account().login(), "popug");
}

TEST(Make, RefusesUnregisteredEventsAndWrongBodies) {
  acc::AccountCreated created;
  acc::AccountUpdated updated;
  try {
    Make("accounts.account.created", 1, updated, "account", "x");
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal);
    EXPECT_THAT(e.what(), HasSubstr("AccountCreated"));
  }
  EXPECT_THROW(Make("accounts.account.exploded", 1, created, "account", "x"), Error);
  EXPECT_THROW(Make("accounts.account.created", 2, created, "account", "x"), Error);
}

TEST(FormatTimestamp, IsRfc3339UtcWithMicroseconds) {
  using namespace std::chrono;
  system_clock::time_point epoch{};
  EXPECT_EQ(FormatTimestamp(epoch), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatTimestamp(epoch + seconds(1700000000) + microseconds(123456)),
            "2023-11-14T22:13:20.123456Z");
}

}  // namespace
}  // namespace ates::events
