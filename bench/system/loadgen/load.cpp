#include "load.hpp"

#include "ates/billing/v1/billing_service.grpc.pb.h"
#include "ates/events/billing/v1/billing_events.pb.h"
#include "ates/platform/events.hpp"
#include "ates/tasks/v1/task_service.grpc.pb.h"
#include "billing_watch.hpp"
#include "grpc/health/v1/health.grpc.pb.h"

namespace ates::bench::system {
namespace {

namespace tasksv1 = ates::tasks::v1;
namespace billingv1 = ates::billing::v1;
namespace healthv1 = grpc::health::v1;

// A channel with a connection of its own (distinct arguments, no sharing).
std::shared_ptr<grpc::Channel> Channel(const std::string& target, int i) {
  grpc::ChannelArguments args;
  args.SetInt("ates.bench.channel", i);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

struct Load::Stubs {
  std::vector<std::unique_ptr<tasksv1::TaskService::Stub>> tasks;
  std::vector<std::unique_ptr<billingv1::BillingService::Stub>> billing;
  std::vector<std::unique_ptr<healthv1::Health::Stub>> health;
};

Load::Load(const Addresses& a, int channels, int queues, const People& people, Stats& stats)
    : people_(people),
      stats_(stats),
      cqs_(queues),
      stubs_(std::make_unique<Stubs>()),
      lives_(stats, [this](const std::string& t, const std::string& acc) { Complete(t, acc); }),
      run_id_(ates::events::NewUuid().substr(0, 8)) {
  for (int i = 0; i < channels; ++i) {
    auto tasks = Channel(a.tasks, i);
    stubs_->tasks.push_back(tasksv1::TaskService::NewStub(tasks));
    stubs_->health.push_back(healthv1::Health::NewStub(tasks));
    stubs_->billing.push_back(billingv1::BillingService::NewStub(Channel(a.billing, i)));
  }
}

Load::~Load() = default;

const Person& Load::AnyWorker() {
  return people_.workers[next_.fetch_add(1, std::memory_order_relaxed) % people_.workers.size()];
}

void Load::CreateTask() {
  uint64_t n = created_.fetch_add(1);
  const Person& who = n % 10 < 7 ? AnyWorker() : people_.managers[n % people_.managers.size()];
  tasksv1::CreateTaskRequest req;
  req.set_title("bench task " + std::to_string(n));
  req.set_jira_id("SYS-" + std::to_string(n));
  req.set_request_id(run_id_ + "-" + std::to_string(n));
  int step = stats_.step();
  stats_.Created();
  auto& stub = Pick(stubs_->tasks);
  cqs_.Issue<tasksv1::CreateTaskResponse>(
      who.token,
      [&](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return stub.PrepareAsyncCreateTask(ctx, req, cq);
      },
      [this, step](Call<tasksv1::CreateTaskResponse>& c) {
        stats_.Rpc(step, "CreateTask", c.Millis(), c.status.ok());
        if (c.status.ok()) lives_.Created(c.resp.task().id(), step, Clock::now());
      });
}

void Load::Complete(const std::string& task_id, const std::string& account) {
  auto token = people_.token_of.find(account);
  if (token == people_.token_of.end()) return;
  tasksv1::CompleteTaskRequest req;
  req.set_task_id(task_id);
  int step = stats_.step();
  auto& stub = Pick(stubs_->tasks);
  cqs_.Issue<tasksv1::CompleteTaskResponse>(
      token->second,
      [&](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return stub.PrepareAsyncCompleteTask(ctx, req, cq);
      },
      [this, step, task_id](Call<tasksv1::CompleteTaskResponse>& c) {
        stats_.Rpc(step, "CompleteTask", c.Millis(), c.status.ok());
        lives_.Completed(task_id, c.status.ok(), Clock::now());
      });
}

void Load::OnApplied(const Applied& a) {
  if (a.kind == ates::events::billing::v1::TRANSACTION_KIND_ASSIGN_FEE) {
    lives_.FeeSeen(a.task_id, a.account_id, a.seen);
  } else if (a.kind == ates::events::billing::v1::TRANSACTION_KIND_COMPLETION_REWARD) {
    lives_.RewardSeen(a.task_id, a.seen);
  }
}

void Load::Read() {
  uint64_t n = next_.fetch_add(1, std::memory_order_relaxed);
  const Person& who = AnyWorker();
  int step = stats_.step();
  if (n % 3 == 0) {
    tasksv1::ListTasksRequest req;
    req.set_status(tasksv1::TASK_STATUS_OPEN);
    req.set_assignee_id(who.id);
    req.set_page_size(20);
    auto& stub = Pick(stubs_->tasks);
    cqs_.Issue<tasksv1::ListTasksResponse>(
        who.token,
        [&](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
          return stub.PrepareAsyncListTasks(ctx, req, cq);
        },
        [this, step](auto& c) { stats_.Rpc(step, "ListTasks", c.Millis(), c.status.ok()); });
  } else if (n % 3 == 1) {
    billingv1::GetBalanceRequest req;
    req.set_account_id(who.id);
    auto& stub = Pick(stubs_->billing);
    cqs_.Issue<billingv1::GetBalanceResponse>(
        who.token,
        [&](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
          return stub.PrepareAsyncGetBalance(ctx, req, cq);
        },
        [this, step](auto& c) { stats_.Rpc(step, "GetBalance", c.Millis(), c.status.ok()); });
  } else {
    billingv1::ListTransactionsRequest req;
    req.set_account_id(who.id);
    req.set_page_size(20);
    auto& stub = Pick(stubs_->billing);
    cqs_.Issue<billingv1::ListTransactionsResponse>(
        who.token,
        [&](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
          return stub.PrepareAsyncListTransactions(ctx, req, cq);
        },
        [this, step](auto& c) { stats_.Rpc(step, "ListTransactions", c.Millis(), c.status.ok()); });
  }
}

void Load::Shuffle(std::function<void(double, int64_t)> done) {
  int step = stats_.step();
  auto& stub = Pick(stubs_->tasks);
  tasksv1::ShuffleTasksRequest req;
  cqs_.Issue<tasksv1::ShuffleTasksResponse>(
      people_.managers.front().token,
      [&](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return stub.PrepareAsyncShuffleTasks(ctx, req, cq);
      },
      [this, step, done](Call<tasksv1::ShuffleTasksResponse>& c) {
        stats_.Rpc(step, "ShuffleTasks", c.Millis(), c.status.ok());
        if (done) done(c.Millis(), c.status.ok() ? c.resp.reassigned_count() : -1);
      });
}

void Load::Health(std::function<void()> done) {
  auto& stub = Pick(stubs_->health);
  healthv1::HealthCheckRequest req;
  cqs_.Issue<healthv1::HealthCheckResponse>(
      "",
      [&](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return stub.PrepareAsyncCheck(ctx, req, cq);
      },
      [done](auto&) { done(); });
}

}  // namespace ates::bench::system
