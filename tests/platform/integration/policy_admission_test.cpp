// CallAdmission (ADR 0017) on a real in-process gRPC server: a method that
// has no access policy is denied before its handler runs, and a request with
// a NUL byte or invalid UTF-8 in a string is INVALID_ARGUMENT, never INTERNAL.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>

#include "ates/billing/v1/billing_service.grpc.pb.h"
#include "ates/platform/rpc_status.hpp"
#include "ates/tasks/v1/task_service.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "support/in_process_server.hpp"
#include "support/raw_call.hpp"

namespace ates::platform {
namespace {

using ::testing::HasSubstr;
namespace tv1 = ::ates::tasks::v1;
namespace bv1 = ::ates::billing::v1;

// Test-only services whose handlers count how often their body ran.
class CountingTasks final : public tv1::TaskService::Service {
 public:
  grpc::Status CreateTask(grpc::ServerContext* ctx, const tv1::CreateTaskRequest* req,
                          tv1::CreateTaskResponse* resp) override {
    return Handle(*ctx, [&] {
      ++ran;
      resp->mutable_task()->set_title(req->title());
    });
  }
  std::atomic<int> ran{0};
};

class CountingBilling final : public bv1::BillingService::Service {
 public:
  grpc::Status GetBalance(grpc::ServerContext* ctx, const bv1::GetBalanceRequest*,
                          bv1::GetBalanceResponse* resp) override {
    return Handle(*ctx, [&] {
      ++ran;
      resp->set_balance_cents(42);
    });
  }
  std::atomic<int> ran{0};
};

class PolicyAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // TaskService is registered without any policy entry; BillingService has
    // GetBalance public (the control).
    server_.Add(billing_, ServicePolicy::For<bv1::BillingService>()
                              .Public("GetBalance")
                              .Authenticated("ListTransactions")
                              .Authenticated("ListPayouts")
                              .Authenticated("GetManagementEarnings")
                              .Authenticated("ReconcileDay"));
    server_.AddWithoutPolicy(tasks_);
    server_.Start();
    channel_ = server_.channel();
  }

  CountingTasks tasks_;
  CountingBilling billing_;
  test::InProcessServer server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(PolicyAdmissionTest, AnRpcWithoutAPolicyIsDeniedAndItsHandlerBodyNeverRuns) {
  auto stub = tv1::TaskService::NewStub(channel_);
  grpc::ClientContext call;
  tv1::CreateTaskRequest req;
  req.set_title("sneaky");
  tv1::CreateTaskResponse resp;
  auto s = stub->CreateTask(&call, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("ates.tasks.v1.TaskService/CreateTask"));
  EXPECT_THAT(s.error_message(), HasSubstr("no access policy"));
  EXPECT_EQ(tasks_.ran.load(), 0);
  EXPECT_FALSE(resp.has_task());

  // Control: a method of the same server that has a (public) policy runs.
  auto billing = bv1::BillingService::NewStub(channel_);
  grpc::ClientContext ok_call;
  bv1::GetBalanceResponse balance;
  auto ok = billing->GetBalance(&ok_call, bv1::GetBalanceRequest(), &balance);
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(balance.balance_cents(), 42);
  EXPECT_EQ(billing_.ran.load(), 1);
}

TEST_F(PolicyAdmissionTest, AnAuthenticatedMethodWithoutATokenIsUnauthenticated) {
  auto stub = bv1::BillingService::NewStub(channel_);
  grpc::ClientContext call;
  bv1::ListPayoutsResponse resp;
  auto s = stub->ListPayouts(&call, bv1::ListPayoutsRequest(), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
}

TEST_F(PolicyAdmissionTest, NulAndInvalidUtf8AreInvalidArgumentBeforeTheHandler) {
  auto field_of = [](const grpc::Status& s) {
    google::rpc::Status rich;
    google::rpc::BadRequest bad;
    if (!rich.ParseFromString(s.error_details()) || rich.details_size() == 0 ||
        !rich.details(0).UnpackTo(&bad) || bad.field_violations_size() == 0) {
      return std::string();
    }
    return bad.field_violations(0).field();
  };
  bv1::GetBalanceRequest with_nul;
  with_nul.set_account_id(std::string("id\0x", 4));
  auto s = test::RawCall(*channel_, "/ates.billing.v1.BillingService/GetBalance",
                         with_nul.SerializeAsString(), "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(field_of(s), "account_id");

  // Invalid UTF-8 in a proto3 string does not even parse: gRPC alone would
  // answer INTERNAL.
  std::string bad_utf8 = std::string("\x0a\x02\xc3\x28", 4);  // field 1, 2 bytes: C3 28
  s = test::RawCall(*channel_, "/ates.billing.v1.BillingService/GetBalance", bad_utf8, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("ates.billing.v1.GetBalanceRequest"));

  // Garbage bytes: the same.
  s = test::RawCall(*channel_, "/ates.billing.v1.BillingService/GetBalance",
                    std::string("\xff\xff\xff\xff", 4), "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(billing_.ran.load(), 0);
}

}  // namespace
}  // namespace ates::platform
