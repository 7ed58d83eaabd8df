#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ates/platform/error.hpp"
#include "ates/platform/rpc_status.hpp"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "support/error_fields.hpp"

namespace ates {
namespace {

using test::BadRequestFields;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Validator, PassesWhenEveryCheckHolds) {
  Validator v;
  v.Check(true, "a", "x");
  EXPECT_TRUE(v.ok());
  EXPECT_NO_THROW(v.ThrowIfInvalid());
}

TEST(Validator, NamesEveryBadFieldInOneError) {
  Validator v;
  v.Check(false, "login", "too short");
  v.Check(true, "email", "fine");
  v.Check(false, "role", "unknown");
  try {
    v.ThrowIfInvalid();
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(e.what(), HasSubstr("login: too short"));
    EXPECT_THAT(e.what(), HasSubstr("role: unknown"));
    EXPECT_THAT(std::string(e.what()), ::testing::Not(HasSubstr("email")));
    ASSERT_EQ(e.violations().size(), 2u);
    EXPECT_EQ(e.violations()[0].field, "login");
    EXPECT_EQ(e.violations()[1].field, "role");
  }
}

TEST(ToStatus, MapsEveryCodeToItsGrpcNamesake) {
  using platform::ToStatus;
  EXPECT_EQ(ToStatus(Error(ErrorCode::kNotFound, "m")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToStatus(Error(ErrorCode::kAlreadyExists, "m")).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(ToStatus(Error(ErrorCode::kFailedPrecondition, "m")).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ToStatus(Error(ErrorCode::kPermissionDenied, "m")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ToStatus(Error(ErrorCode::kUnauthenticated, "m")).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ToStatus(Error(ErrorCode::kResourceExhausted, "m")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ToStatus(Error(ErrorCode::kUnavailable, "m")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ToStatus(Error(ErrorCode::kInternal, "m")).error_code(), grpc::StatusCode::INTERNAL);
  auto s = ToStatus(Error(ErrorCode::kNotFound, "no account x"));
  EXPECT_EQ(s.error_message(), "no account x");
  EXPECT_TRUE(s.error_details().empty());
}

TEST(ToStatus, InvalidArgumentCarriesABadRequestNamingTheFields) {
  auto s = platform::ToStatus(Error(ErrorCode::kInvalidArgument, "invalid request: email: bad",
                                    {{"email", "bad"}, {"full_name", "too long"}}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("email"));
  EXPECT_THAT(BadRequestFields(s), ElementsAre("email", "full_name"));
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(s.error_details()));
  EXPECT_EQ(rich.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
}

TEST(ToStatus, ALimitCarriesARetryInfoWithItsDelay) {
  auto s = platform::ToStatus(
      Error(ErrorCode::kResourceExhausted, "too many tasks created; retry in 1.5s")
          .WithRetryAfter(std::chrono::milliseconds(1500)));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(test::RetryDelay(s), std::chrono::milliseconds(1500));
  EXPECT_TRUE(BadRequestFields(s).empty());
  // Without a hint there is no RetryInfo.
  EXPECT_EQ(test::RetryDelay(platform::ToStatus(Error(ErrorCode::kResourceExhausted, "m"))),
            std::chrono::milliseconds(-1));
}

TEST(Handle, TurnsExceptionsIntoStatuses) {
  EXPECT_TRUE(platform::Handle([] {}).ok());
  EXPECT_EQ(platform::Handle([] { throw Error(ErrorCode::kNotFound, "gone"); }).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Internal details are not leaked to the caller.
  auto s = platform::Handle([] { throw std::runtime_error("secret table name"); });
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_THAT(s.error_message(), ::testing::Not(HasSubstr("secret")));
  EXPECT_EQ(platform::Handle([] { throw pg::PgError("down", "", true); }).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(platform::Handle([] { throw pg::PgError("syntax", "42601", false); }).error_code(),
            grpc::StatusCode::INTERNAL);
  // A lost COMMIT reply that could not be resolved: transient, and it says so.
  auto unknown =
      platform::Handle([] { throw pg::PgError("commit outcome unknown", "08007", true); });
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(unknown.error_message(), HasSubstr("may or may not have been applied"));
}

TEST(DatabaseStatus, TimeoutsAreUnavailableOrDeadlineExceededNeverInternal) {
  using pg::TimeoutError;
  EXPECT_EQ(
      platform::DatabaseStatus(TimeoutError(TimeoutError::Kind::kAcquire, "pool")).error_code(),
      grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(platform::DatabaseStatus(pg::PgError("statement timeout", "57014", false)).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(platform::DatabaseStatus(pg::PgError("lock timeout", "55P03", false)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  TimeoutError deadline(TimeoutError::Kind::kDeadline, "deadline");
  {
    pg::CallDeadline passed(std::chrono::steady_clock::now() - std::chrono::milliseconds(1));
    EXPECT_EQ(platform::DatabaseStatus(deadline).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  // Another caller's deadline (a shared GroupCommit batch): this caller may retry.
  pg::CallDeadline later(std::chrono::steady_clock::now() + std::chrono::hours(1));
  EXPECT_EQ(platform::DatabaseStatus(deadline).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(CallDeadline, NestedScopesNeverExtendTheOuterOneAndRestoreIt) {
  using Clock = pg::CallDeadline::Clock;
  EXPECT_FALSE(pg::CallDeadline::Current().has_value());
  EXPECT_FALSE(pg::CallDeadline::Passed());
  auto soon = Clock::now() + std::chrono::seconds(10);
  {
    pg::CallDeadline outer(soon);
    {
      pg::CallDeadline inner(soon + std::chrono::seconds(10));
      EXPECT_EQ(pg::CallDeadline::Current(), soon);
      pg::CallDeadline none(std::nullopt);
      EXPECT_EQ(pg::CallDeadline::Current(), soon);
    }
    {
      pg::CallDeadline inner(Clock::now() - std::chrono::seconds(1));
      EXPECT_TRUE(pg::CallDeadline::Passed());
    }
    EXPECT_EQ(pg::CallDeadline::Current(), soon);
  }
  EXPECT_FALSE(pg::CallDeadline::Current().has_value());
}

TEST(Handle, CallWithoutADeadlineSetsNone) {
  grpc::ServerContext ctx;
  platform::AdmitCallForTest admitted(ctx);  // as CallAdmission would (ADR 0017)
  bool had_deadline = true;
  EXPECT_TRUE(
      platform::Handle(ctx, [&] { had_deadline = pg::CallDeadline::Current().has_value(); }).ok());
  EXPECT_FALSE(had_deadline);
}

}  // namespace
}  // namespace ates
