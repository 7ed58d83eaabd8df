#include "scheduler_grpc_service.hpp"

#include "ates/platform/timestamps.hpp"

namespace ates::scheduler {
namespace {

using auth::Role;

void ToProto(const ClosedCycle& c, v1::ClosedCycle* out) {
  out->set_business_date(c.business_date);
  *out->mutable_closed_at() = platform::ToTimestamp(c.closed_at);
  out->set_manual(c.manual);
  out->set_event_id(c.event_id);
}

}  // namespace

SchedulerGrpcService::SchedulerGrpcService(SchedulerService& scheduler) : scheduler_(scheduler) {}

platform::ServicePolicy SchedulerGrpcService::Policy() {
  return platform::ServicePolicy::For<v1::SchedulerService>()
      .Roles("CloseBillingCycle", {Role::kAdmin})
      .Roles("ListClosedCycles", {Role::kAdmin, Role::kAccountant});
}

grpc::Status SchedulerGrpcService::CloseBillingCycle(grpc::ServerContext* ctx,
                                                     const v1::CloseBillingCycleRequest* req,
                                                     v1::CloseBillingCycleResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    auto result = scheduler_.Close(who, req->business_date());
    ToProto(result.cycle, resp->mutable_cycle());
    resp->set_newly_closed(result.newly_closed);
  });
}

grpc::Status SchedulerGrpcService::ListClosedCycles(grpc::ServerContext* ctx,
                                                    const v1::ListClosedCyclesRequest* req,
                                                    v1::ListClosedCyclesResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    auto page = scheduler_.List(who, req->page_size(), req->page_token());
    for (const auto& c : page.cycles) ToProto(c, resp->add_cycles());
    resp->set_next_page_token(page.next_page_token);
  });
}

}  // namespace ates::scheduler
