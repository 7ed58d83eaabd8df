// Dead letters an operator can handle: `atesctl dlq list` shows what billing's
// consumers refused and why; `atesctl dlq replay` applies a parked event
// through the same inbox, so a replay never applies anything twice.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ates/ops/v1/dead_letter_service.grpc.pb.h"
#include "ates/platform/page_token.hpp"
#include "support/billing_helpers.hpp"
#include "support/e2e_support.hpp"

#ifndef ATESCTL_BIN
#error "ATESCTL_BIN must be defined by the build"
#endif

namespace ates::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class BillingDeadLetterTest : public BillingTest {
 protected:
  void SetUp() override {
    BillingTest::SetUp();
    if (HasFatalFailure()) return;
    dir_ = TestStack::Get().dir() + "/dlq-cli";
    std::filesystem::create_directories(dir_);
    auto login = Ctl({"login", "--user", kAdminLogin, "--password-stdin"},
                     std::string(kAdminPassword) + "\n");
    ASSERT_EQ(login.exit_code, 0) << login.err;
  }

  e2e::CliResult Ctl(std::vector<std::string> args, const std::string& stdin_text = "") {
    std::vector<std::string> argv = {
        ATESCTL_BIN,           "--auth",       w().auth->target(), "--billing",
        w().billing->target(), "--token-file", dir_ + "/token"};
    for (auto& a : args) argv.push_back(std::move(a));
    return e2e::RunCli(argv, stdin_text, {{"HOME", dir_}, {"NO_COLOR", "1"}});
  }

  // A dead letter as an older version of billing could have parked it, with
  // the producer's header as the consumer stores it (replay checks it, ADR 15).
  int64_t Park(const Ev& e, const std::string& reason) {
    return Query(w().billing_db,
                 "INSERT INTO dead_letters (consumer, event_id, subject, event_type, event_version,"
                 " stream_seq, deliveries, reason, headers, payload)"
                 " VALUES ('billing_tasks', $1, $2, $2, '1', nextval('dead_letters_id_seq') + "
                 "1000000, 5, $3, 'Ates-Producer: ates-tasks', $4) RETURNING id",
                 {pg::Text(e.id), pg::Text(e.subject), pg::Text(reason), pg::Bytes(e.payload)})
        .Int(0, 0);
  }

  int64_t Postings(const std::string& event_id) {
    return QueryInt(w().billing_db, "SELECT count(*) FROM transactions WHERE id = $1",
                    {pg::Text(event_id)});
  }

  std::string dir_;
};

TEST_F(BillingDeadLetterTest, AnUndecodableEventIsListedWithItsReasonAndARetryRefusesItAgain) {
  Ev garbage = MakeEv("tasks.task.assigned", events::NewUuid(), 1, std::string(11, '\xff'));
  Publish(*w().js, garbage);
  ASSERT_TRUE(Eventually(
      [&] {
        return QueryInt(w().billing_db, "SELECT count(*) FROM dead_letters WHERE event_id = $1",
                        {pg::Text(garbage.id)}) == 1;
      },
      30s))
      << "billing did not park the undecodable event";

  auto list = Ctl({"dlq", "list", "--service", "billing"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr(garbage.id));
  EXPECT_THAT(list.out, HasSubstr("billing_tasks"));
  EXPECT_THAT(list.out, HasSubstr("undecodable"));
  int64_t id = QueryInt(w().billing_db, "SELECT id FROM dead_letters WHERE event_id = $1",
                        {pg::Text(garbage.id)});

  auto replay = Ctl({"dlq", "replay", "--service", "billing", std::to_string(id)});
  EXPECT_EQ(replay.exit_code, 8) << replay.out << replay.err;
  EXPECT_THAT(replay.out, HasSubstr("failed"));
  EXPECT_EQ(Postings(garbage.id), 0);
  auto still = Ctl({"dlq", "list", "--service", "billing", "-o", "json"});
  EXPECT_THAT(still.out, HasSubstr(garbage.id)) << "a refused replay keeps the dead letter";
}

TEST_F(BillingDeadLetterTest, AReplayedEventIsPostedOnceAndASecondReplayFindsNothing) {
  std::string day = w().NewDays(1);
  std::string worker = w().NewWorker();
  Ev assigned = AssignedEv(events::NewUuid(), worker, At(day));
  int64_t id = Park(assigned, "handler failed: the cause an operator has since fixed");
  EXPECT_EQ(Postings(assigned.id), 0);

  auto replay = Ctl({"dlq", "replay", "--service", "billing", std::to_string(id)});
  ASSERT_EQ(replay.exit_code, 0) << replay.out << replay.err;
  EXPECT_THAT(replay.out, HasSubstr("applied"));
  w().model.Record(assigned);  // the fee is now expected (checked with the invariants)
  EXPECT_EQ(Postings(assigned.id), 1);

  auto again = Ctl({"dlq", "replay", "--service", "billing", std::to_string(id)});
  EXPECT_EQ(again.exit_code, 5) << again.out << again.err;
  EXPECT_EQ(Postings(assigned.id), 1) << "a second replay posted the fee again";

  // The same event parked twice (say, by two replicas): the inbox has it.
  int64_t copy = Park(assigned, "parked twice");
  auto dup = Ctl({"dlq", "replay", "--service", "billing", std::to_string(copy)});
  EXPECT_EQ(dup.exit_code, 0) << dup.out << dup.err;
  EXPECT_THAT(dup.out, HasSubstr("already applied"));
  EXPECT_EQ(Postings(assigned.id), 1);
}

TEST_F(BillingDeadLetterTest, OnlyAnAdminMayListOrReplay) {
  auto worker_login =
      CreatePerson(*w().auth_stub, w().admin_token, "dlq-worker", ::ates::common::v1::ROLE_WORKER);
  Call c(worker_login.token);
  auto stub = ops::v1::DeadLetterService::NewStub(w().billing->channel());
  ops::v1::ListDeadLettersResponse resp;
  auto status = stub->ListDeadLetters(&c.ctx, {}, &resp);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  Call c2(w().accountant.token);
  ops::v1::ReplayDeadLettersRequest req;
  req.set_all(true);
  ops::v1::ReplayDeadLettersResponse replayed;
  status = stub->ReplayDeadLetters(&c2.ctx, req, &replayed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
}

TEST_F(BillingDeadLetterTest, ListDeadLettersCapsTheSizeAndRefusesANegativeOneOrAForeignToken) {
  auto stub = ops::v1::DeadLetterService::NewStub(w().billing->channel());
  auto list = [&](int size, const std::string& token, ops::v1::ListDeadLettersResponse* out) {
    Call c(w().admin_token);
    ops::v1::ListDeadLettersRequest req;
    req.set_page_size(size);
    req.set_page_token(token);
    return stub->ListDeadLetters(&c.ctx, req, out);
  };
  ops::v1::ListDeadLettersResponse resp;
  auto s = list(100000, "", &resp);
  EXPECT_TRUE(s.ok()) << "capped, not refused: " << s.error_message();
  s = list(-1, "", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadRequestFields(s), ElementsAre("page_size"));
  // The old token (a bare id) and a token of another List method are refused.
  for (const std::string& token :
       {std::string("17"), platform::EncodePageToken("17", platform::PageFilter("ListTasks"))}) {
    s = list(1, token, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << token;
    EXPECT_THAT(BadRequestFields(s), ElementsAre("page_token")) << token;
  }
  // A token this method issued is read back.
  s = list(1, platform::EncodePageToken("17", platform::PageFilter("ListDeadLetters")), &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

}  // namespace
}  // namespace ates::test
