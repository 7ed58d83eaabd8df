#include "method_routes.hpp"

#include <stdexcept>

#include "ates/analytics/v1/analytics_service.pb.h"
#include "ates/auth/v1/auth_service.pb.h"
#include "ates/billing/v1/billing_service.pb.h"
#include "ates/scheduler/v1/scheduler_service.pb.h"
#include "ates/tasks/v1/task_service.pb.h"

namespace ates::gateway {
namespace {

// Touches one message of each service's file so the linker keeps the
// generated code that registers the file in the generated pool.
void LinkServiceFiles() {
  (void)ates::auth::v1::LoginRequest::descriptor();
  (void)ates::tasks::v1::CreateTaskRequest::descriptor();
  (void)ates::billing::v1::GetBalanceRequest::descriptor();
  (void)ates::analytics::v1::GetDailySummaryRequest::descriptor();
  (void)ates::scheduler::v1::CloseBillingCycleRequest::descriptor();
}

}  // namespace

const std::vector<std::string>& MethodRoutes::ServiceNames() {
  static const std::vector<std::string> names = {
      "ates.auth.v1.AuthService", "ates.tasks.v1.TaskService", "ates.billing.v1.BillingService",
      "ates.analytics.v1.AnalyticsService", "ates.scheduler.v1.SchedulerService"};
  return names;
}

MethodRoutes::MethodRoutes() {
  LinkServiceFiles();
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  const auto& names = ServiceNames();
  for (size_t i = 0; i < names.size(); ++i) {
    const auto* service = pool->FindServiceByName(names[i]);
    if (service == nullptr) throw std::logic_error("service not linked: " + names[i]);
    for (int m = 0; m < service->method_count(); ++m) {
      const auto* method = service->method(m);
      if (method->client_streaming() || method->server_streaming()) continue;  // unary only
      routes_.emplace("/" + service->full_name() + "/" + method->name(), MethodRoute{method, i});
    }
  }
}

const MethodRoute* MethodRoutes::Find(const std::string& path) const {
  auto it = routes_.find(path);
  return it == routes_.end() ? nullptr : &it->second;
}

}  // namespace ates::gateway
