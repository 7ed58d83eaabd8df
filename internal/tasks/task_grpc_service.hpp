#pragma once

#include "ates/platform/rpc_status.hpp"
#include "ates/tasks/v1/task_service.grpc.pb.h"
#include "task_service.hpp"

namespace ates::tasks {

// gRPC face of TaskService: proto <-> domain, role table.
class TaskGrpcService final : public ates::tasks::v1::TaskService::Service {
 public:
  static constexpr const char* kName = "ates.tasks.v1.TaskService";

  explicit TaskGrpcService(TaskService& tasks);
  // Who may call each method (the platform enforces it before the handler runs).
  static platform::ServicePolicy Policy();

  grpc::Status CreateTask(grpc::ServerContext* ctx, const v1::CreateTaskRequest* req,
                          v1::CreateTaskResponse* resp) override;
  grpc::Status GetTask(grpc::ServerContext* ctx, const v1::GetTaskRequest* req,
                       v1::GetTaskResponse* resp) override;
  grpc::Status ListTasks(grpc::ServerContext* ctx, const v1::ListTasksRequest* req,
                         v1::ListTasksResponse* resp) override;
  grpc::Status CompleteTask(grpc::ServerContext* ctx, const v1::CompleteTaskRequest* req,
                            v1::CompleteTaskResponse* resp) override;
  grpc::Status ShuffleTasks(grpc::ServerContext* ctx, const v1::ShuffleTasksRequest* req,
                            v1::ShuffleTasksResponse* resp) override;

 private:
  TaskService& tasks_;
};

}  // namespace ates::tasks
