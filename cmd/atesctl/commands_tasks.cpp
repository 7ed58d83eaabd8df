// tasks create|list|get|complete|shuffle: TaskService.

#include "ates/tasks/v1/task_service.grpc.pb.h"
#include "commands.hpp"

namespace ates::ctl {
namespace {

namespace v1 = ates::tasks::v1;

std::unique_ptr<v1::TaskService::Stub> Stub(Session& session) {
  return v1::TaskService::NewStub(session.Channel(Service::kTasks));
}

std::string StatusName(v1::TaskStatus status) {
  switch (status) {
    case v1::TASK_STATUS_OPEN:
      return "open";
    case v1::TASK_STATUS_COMPLETED:
      return "completed";
    default:
      return "unspecified";
  }
}

std::string TaskView(const v1::Task& task) {
  Table t({{"FIELD"}, {"VALUE"}});
  t.AddRow({"id", task.id()});
  t.AddRow({"jira_id", task.jira_id()});
  t.AddRow({"title", task.title()});
  t.AddRow({"status", StatusName(task.status())});
  t.AddRow({"assignee", LoginOrId(task.assignee_login(), task.assignee_id())});
  t.AddRow({"assignee_name", task.assignee_name()});
  t.AddRow({"assignee_id", task.assignee_id()});
  t.AddRow({"created_by", task.created_by()});
  t.AddRow({"created", FormatUnixTime(task.created_at().seconds())});
  t.AddRow({"completed", FormatUnixTime(task.completed_at().seconds())});
  t.AddRow({"version", std::to_string(task.version())});
  t.AddRow({"description", task.description()});
  return t.Render();
}

std::string TaskTable(const v1::ListTasksResponse& resp) {
  Table t({{"ID"},
           {"JIRA"},
           {"TITLE"},
           {"STATUS"},
           {"ASSIGNEE"},
           {"NAME"},
           {"CREATED"},
           {"COMPLETED"}});
  for (const auto& task : resp.tasks()) {
    t.AddRow({task.id(), task.jira_id(), task.title(), StatusName(task.status()),
              LoginOrId(task.assignee_login(), task.assignee_id()), task.assignee_name(),
              FormatUnixTime(task.created_at().seconds()),
              FormatUnixTime(task.completed_at().seconds())});
  }
  return t.Render();
}

// Open tasks unless --status or --all says otherwise.
v1::TaskStatus StatusFilter(const ParsedArgs& args) {
  if (args.Has("all") && args.Has("status")) throw UsageError("use either --status or --all");
  if (args.Has("all")) return v1::TASK_STATUS_UNSPECIFIED;
  std::string status = OneOf("--status", args.Get("status", "open"), {"open", "completed"});
  return status == "open" ? v1::TASK_STATUS_OPEN : v1::TASK_STATUS_COMPLETED;
}

int CreateTask(Session& session, const ParsedArgs& args) {
  v1::CreateTaskRequest req;
  if (!args.Has("title")) throw UsageError("missing --title");
  req.set_title(args.Get("title"));
  req.set_jira_id(args.Get("jira-id"));
  req.set_description(args.Get("description"));
  req.set_request_id(args.Get("request-id"));
  v1::CreateTaskResponse resp;
  auto stub = Stub(session);
  session.Call(Service::kTasks,
               [&](grpc::ClientContext* ctx) { return stub->CreateTask(ctx, req, &resp); });
  session.Emit(resp, [&] { return TaskView(resp.task()); });
  return kExitOk;
}

int ListTasks(Session& session, const ParsedArgs& args) {
  v1::ListTasksRequest first;
  first.set_status(StatusFilter(args));
  first.set_assignee_id(args.Get("assignee"));
  auto stub = Stub(session);
  auto resp = ListAll<v1::ListTasksRequest, v1::ListTasksResponse>(
      session, Service::kTasks, first, LimitOf(args),
      [&](grpc::ClientContext* ctx, const auto& req, auto* page) {
        return stub->ListTasks(ctx, req, page);
      },
      [](auto& r) -> auto& { return *r.mutable_tasks(); });
  session.Emit(resp, [&] { return TaskTable(resp); });
  return kExitOk;
}

int GetTask(Session& session, const ParsedArgs& args) {
  v1::GetTaskRequest req;
  req.set_task_id(args.Positional(0));
  v1::GetTaskResponse resp;
  auto stub = Stub(session);
  session.Call(Service::kTasks,
               [&](grpc::ClientContext* ctx) { return stub->GetTask(ctx, req, &resp); });
  session.Emit(resp, [&] { return TaskView(resp.task()); });
  return kExitOk;
}

int CompleteTask(Session& session, const ParsedArgs& args) {
  v1::CompleteTaskRequest req;
  req.set_task_id(args.Positional(0));
  v1::CompleteTaskResponse resp;
  auto stub = Stub(session);
  session.Call(Service::kTasks,
               [&](grpc::ClientContext* ctx) { return stub->CompleteTask(ctx, req, &resp); });
  session.Emit(resp, [&] { return TaskView(resp.task()); });
  return kExitOk;
}

int ShuffleTasks(Session& session, const ParsedArgs&) {
  v1::ShuffleTasksRequest req;
  v1::ShuffleTasksResponse resp;
  auto stub = Stub(session);
  session.Call(Service::kTasks,
               [&](grpc::ClientContext* ctx) { return stub->ShuffleTasks(ctx, req, &resp); });
  session.Emit(resp, [&] {
    Table t({{"REASSIGNED", Table::Align::kRight}});
    t.AddRow({std::to_string(resp.reassigned_count())});
    return t.Render();
  });
  return kExitOk;
}

PositionalSpec TaskId() { return {"ID", true, "task id (uuid)"}; }

}  // namespace

std::vector<Command> TaskCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {{.path = {"tasks", "create"},
        .summary = "Create a task; it is assigned at once to a random worker.",
        .flags = {{"title", '\0', "TITLE", "1-200 characters, no '[' or ']' (required)"},
                  {"jira-id", '\0', "KEY", "issue key such as UP-42"},
                  {"description", '\0', "TEXT", "at most 10000 characters"},
                  {"request-id", '\0', "KEY",
                   "idempotency key: repeating it returns the same task"}},
        .example = "atesctl tasks create --title 'Fix the nest' --jira-id UP-42"},
       CreateTask});
  commands.push_back(
      {{.path = {"tasks", "list"},
        .summary = "List tasks: a worker's own, everyone's for admin and manager.",
        .flags = {{"status", '\0', "STATUS", "open (default) or completed"},
                  {"all", '\0', "", "tasks of any status"},
                  {"assignee", '\0', "ID", "only this assignee's tasks (admin, manager)"},
                  LimitFlag()},
        .example = "atesctl tasks list --all -o json",
        .details = "ASSIGNEE is the assignee's login (their id while the tasks service has "
                   "not heard of the account yet), NAME their full name; -o json has both "
                   "with the id."},
       ListTasks});
  commands.push_back({{.path = {"tasks", "get"},
                       .summary = "Show one task.",
                       .positionals = {TaskId()},
                       .example = "atesctl tasks get 5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"},
                      GetTask});
  commands.push_back({{.path = {"tasks", "complete"},
                       .summary = "Complete one of your tasks (final; repeating it is harmless).",
                       .positionals = {TaskId()},
                       .example = "atesctl tasks complete 5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"},
                      CompleteTask});
  commands.push_back({{.path = {"tasks", "shuffle"},
                       .summary = "Reassign every open task at random (admin, manager).",
                       .example = "atesctl tasks shuffle"},
                      ShuffleTasks});
  return commands;
}

}  // namespace ates::ctl
