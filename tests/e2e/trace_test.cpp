// One trace id from the request to the ledger (issue 14, ADR 33): a CreateTask
// carries a W3C traceparent (over gRPC, through the gateway's HTTP header, from
// atesctl, or none at all); ates-tasks logs the call in that trace, writes it
// on the outbox row, the relay sends it as NATS header `traceparent`, and
// ates-billing logs the posting of the task's fee in the same trace. The five
// real daemons and a real gateway, at log level debug; the test reads their
// JSON log lines.
#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "ates/platform/trace_context.hpp"
#include "ates/tasks/v1/task_service.grpc.pb.h"
#include "gateway_fixture.hpp"
#include "support/e2e_support.hpp"

#ifndef ATESCTL_BIN
#error "ATESCTL_BIN must be defined by the build"
#endif

namespace ates::test {
namespace {

namespace tasksv1 = ::ates::tasks::v1;
using ::testing::HasSubstr;

// One JSON log line's string fields.
using LogLine = std::map<std::string, std::string>;

std::vector<LogLine> LogLines(const std::string& log) {
  std::vector<LogLine> out;
  std::istringstream in(log);
  std::string text;
  while (std::getline(in, text)) {
    google::protobuf::Struct line;
    if (text.empty() || text[0] != '{' ||
        !google::protobuf::util::JsonStringToMessage(text, &line).ok()) {
      continue;
    }
    LogLine fields;
    for (const auto& [key, value] : line.fields()) fields[key] = value.string_value();
    out.push_back(std::move(fields));
  }
  return out;
}

// The first line of `log` whose msg is `msg` and whose `key` is `value`.
std::optional<LogLine> FindLine(const std::string& log, const std::string& msg,
                                const std::string& key, const std::string& value) {
  for (auto& line : LogLines(log)) {
    if (line["msg"] == msg && line[key] == value) return line;
  }
  return std::nullopt;
}

std::string NewTraceparent() {
  return trace::TraceContext{trace::NewTraceId(), trace::NewSpanId(), 0x01}.Traceparent();
}

std::string TraceIdOf(const std::string& traceparent) {
  auto parsed = trace::Parse(traceparent);
  return parsed ? parsed->trace_id : "";
}

class TraceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    system_ = new SystemUnderTest("trace", {{"ATES_LOG_LEVEL", "debug"}});
    gateway_ = new Gateway(*system_);
    auto auth = system_->Auth();
    Call c(system_->admin_token);
    authv1::CreateAccountResponse resp;
    auto s = auth->CreateAccount(&c.ctx, NewAccountRequest("trace-worker"), &resp);
    ASSERT_TRUE(s.ok()) << Describe(s);
    const auto& tasks_db = system_->db.at("ates-tasks");
    ASSERT_TRUE(Eventually([&] {
      return QueryInt(tasks_db, "SELECT count(*) FROM accounts_replica WHERE id = $1::uuid",
                      {pg::Text(resp.account().id())}) == 1;
    })) << "ates-tasks never learnt the worker";
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete system_;
    gateway_ = nullptr;
    system_ = nullptr;
  }

  static Daemon& Tasks() { return *system_->daemons.at("ates-tasks"); }
  static Daemon& Billing() { return *system_->daemons.at("ates-billing"); }

  // CreateTask over gRPC, with `traceparent` as metadata unless empty; the
  // task's id and the traceparent the daemon echoed.
  static std::pair<std::string, std::string> CreateTask(const std::string& traceparent) {
    auto stub = tasksv1::TaskService::NewStub(Tasks().channel());
    Call c(system_->admin_token);
    if (!traceparent.empty()) c.ctx.AddMetadata(trace::kTraceparentHeader, traceparent);
    tasksv1::CreateTaskRequest req;
    req.set_title("Follow the trace");
    tasksv1::CreateTaskResponse resp;
    auto s = stub->CreateTask(&c.ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << Describe(s);
    auto echoed = c.ctx.GetServerInitialMetadata().find(trace::kTraceparentHeader);
    std::string back = echoed == c.ctx.GetServerInitialMetadata().end()
                           ? ""
                           : std::string(echoed->second.data(), echoed->second.size());
    return {resp.task().id(), back};
  }

  // ates-tasks logged the creation of `task` in trace `trace_id`.
  static void ExpectTaskCreatedIn(const std::string& task, const std::string& trace_id) {
    auto line = FindLine(Tasks().Log(), "task created", "task_id", task);
    ASSERT_TRUE(line.has_value()) << "no 'task created' line for " << task;
    EXPECT_EQ((*line)["trace_id"], trace_id);
    EXPECT_EQ((*line)["span_id"].size(), 16u);
  }

  // ates-billing logs the posting of `task`'s fee in trace `trace_id`.
  static void ExpectFeePostedIn(const std::string& task, const std::string& trace_id) {
    std::optional<LogLine> line;
    EXPECT_TRUE(Eventually([&] {
      line = FindLine(Billing().Log(), "transaction posted", "task_id", task);
      return line.has_value();
    })) << "billing never logged the fee of "
        << task;
    if (!line) return;
    EXPECT_EQ((*line)["kind"], "TRANSACTION_KIND_ASSIGN_FEE");
    EXPECT_EQ((*line)["trace_id"], trace_id);
    EXPECT_EQ((*line)["span_id"].size(), 16u);
  }

  static inline SystemUnderTest* system_ = nullptr;
  static inline Gateway* gateway_ = nullptr;
};

TEST_F(TraceTest, TheCallersTraceIdReachesTasksLogAndBillingsPostingOfTheFee) {
  const std::string sent = NewTraceparent();
  auto [task, echoed] = CreateTask(sent);
  ASSERT_FALSE(task.empty());
  // The daemon's span is a child: same trace, a span id of its own.
  EXPECT_EQ(TraceIdOf(echoed), TraceIdOf(sent));
  EXPECT_NE(echoed, sent);
  ExpectTaskCreatedIn(task, TraceIdOf(sent));
  ExpectFeePostedIn(task, TraceIdOf(sent));
  auto posted = FindLine(Billing().Log(), "transaction posted", "task_id", task);
  ASSERT_TRUE(posted.has_value());
  EXPECT_NE((*posted)["span_id"], trace::Parse(echoed)->span_id) << "billing's span is its own";
}

TEST_F(TraceTest, ACallWithoutTraceparentStartsATraceThatStillReachesBilling) {
  auto [task, echoed] = CreateTask("");
  ASSERT_FALSE(task.empty());
  const std::string started = TraceIdOf(echoed);
  ASSERT_EQ(started.size(), 32u) << "no valid traceparent echoed: '" << echoed << "'";
  ExpectTaskCreatedIn(task, started);
  ExpectFeePostedIn(task, started);
}

TEST_F(TraceTest, ABadTraceparentStartsANewTraceAndNeverFailsTheCall) {
  const std::string upper = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01";
  auto [task, echoed] = CreateTask(upper);
  ASSERT_FALSE(task.empty());
  const std::string started = TraceIdOf(echoed);
  ASSERT_EQ(started.size(), 32u);
  EXPECT_NE(started, "4bf92f3577b34da6a3ce929d0e0e4736");
  ExpectFeePostedIn(task, started);
}

TEST_F(TraceTest, TheGatewayPassesTheHttpTraceparentOn) {
  const std::string sent = NewTraceparent();
  HttpClient client(gateway_->url());
  auto answer =
      client.Post("/ates.tasks.v1.TaskService/CreateTask",
                  R"({"title":"Follow the trace through the gateway"})",
                  {"Connect-Protocol-Version: 1", "Content-Type: application/json",
                   "Authorization: Bearer " + system_->admin_token, "traceparent: " + sent});
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(TraceIdOf(answer.Header("traceparent")), TraceIdOf(sent));
  tasksv1::CreateTaskResponse resp;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(answer.body, &resp).ok()) << answer.body;
  ExpectTaskCreatedIn(resp.task().id(), TraceIdOf(sent));
  ExpectFeePostedIn(resp.task().id(), TraceIdOf(sent));
}

TEST_F(TraceTest, AtesctlContinuesTraceparentAndPrintsTheTraceIdWithTrace) {
  const std::string dir = TestStack::Get().dir() + "/trace-ctl";
  std::filesystem::create_directories(dir);
  const std::string token_file = dir + "/token";
  std::ofstream(token_file) << system_->admin_token;
  const std::string sent = NewTraceparent();
  auto r = e2e::RunCli({ATESCTL_BIN, "--tasks", Tasks().target(), "--token-file", token_file,
                        "--trace", "-o", "json", "tasks", "create", "--title", "From atesctl"},
                       "", {{"HOME", dir}, {"TRACEPARENT", sent}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("trace_id " + TraceIdOf(sent)));
  tasksv1::CreateTaskResponse resp;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &resp).ok()) << r.out;
  ExpectFeePostedIn(resp.task().id(), TraceIdOf(sent));
}

}  // namespace
}  // namespace ates::test
