#include "task_grpc_service.hpp"

#include <google/protobuf/util/time_util.h>

#include "ates/platform/timestamps.hpp"

namespace ates::tasks {
namespace {

using auth::Role;

void ToProto(const Task& t, v1::Task* out) {
  out->set_id(t.id);
  out->set_title(t.title);
  out->set_jira_id(t.jira_id);
  out->set_description(t.description);
  out->set_status(t.status == TaskStatus::kOpen ? v1::TASK_STATUS_OPEN : v1::TASK_STATUS_COMPLETED);
  out->set_assignee_id(t.assignee_id);
  out->set_assignee_login(t.assignee_login);
  out->set_assignee_name(t.assignee_name);
  out->set_created_by(t.created_by);
  *out->mutable_created_at() = platform::ToTimestamp(t.created_at);
  if (t.completed_at) *out->mutable_completed_at() = platform::ToTimestamp(*t.completed_at);
  out->set_version(t.version);
}

}  // namespace

TaskGrpcService::TaskGrpcService(TaskService& tasks) : tasks_(tasks) {}

platform::ServicePolicy TaskGrpcService::Policy() {
  return platform::ServicePolicy::For<v1::TaskService>()
      .Authenticated("CreateTask")
      .Authenticated("GetTask")       // workers: own tasks only (checked in the domain)
      .Authenticated("ListTasks")     // same
      .Authenticated("CompleteTask")  // the assignee only (checked in the domain)
      .Roles("ShuffleTasks", {Role::kAdmin, Role::kManager});
}

grpc::Status TaskGrpcService::CreateTask(grpc::ServerContext* ctx, const v1::CreateTaskRequest* req,
                                         v1::CreateTaskResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    NewTask t{req->title(), req->jira_id(), req->description(), req->request_id()};
    ToProto(tasks_.Create(who, t), resp->mutable_task());
  });
}

grpc::Status TaskGrpcService::GetTask(grpc::ServerContext* ctx, const v1::GetTaskRequest* req,
                                      v1::GetTaskResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    ToProto(tasks_.Get(who, req->task_id()), resp->mutable_task());
  });
}

grpc::Status TaskGrpcService::ListTasks(grpc::ServerContext* ctx, const v1::ListTasksRequest* req,
                                        v1::ListTasksResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    TaskFilter f;
    if (req->status() == v1::TASK_STATUS_OPEN) f.status = TaskStatus::kOpen;
    if (req->status() == v1::TASK_STATUS_COMPLETED) f.status = TaskStatus::kCompleted;
    f.assignee_id = req->assignee_id();
    f.page_size = req->page_size();
    f.page_token = req->page_token();
    auto page = tasks_.List(who, f);
    for (const auto& t : page.tasks) ToProto(t, resp->add_tasks());
    resp->set_next_page_token(page.next_page_token);
  });
}

grpc::Status TaskGrpcService::CompleteTask(grpc::ServerContext* ctx,
                                           const v1::CompleteTaskRequest* req,
                                           v1::CompleteTaskResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    ToProto(tasks_.Complete(who, req->task_id()), resp->mutable_task());
  });
}

grpc::Status TaskGrpcService::ShuffleTasks(grpc::ServerContext* ctx, const v1::ShuffleTasksRequest*,
                                           v1::ShuffleTasksResponse* resp) {
  return platform::Handle(
      *ctx, [&](const auth::Principal& who) { resp->set_reassigned_count(tasks_.Shuffle(who)); });
}

}  // namespace ates::tasks
