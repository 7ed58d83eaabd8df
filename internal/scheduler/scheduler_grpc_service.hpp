#pragma once

#include "ates/platform/server.hpp"
#include "ates/scheduler/v1/scheduler_service.grpc.pb.h"
#include "scheduler_service.hpp"

namespace ates::scheduler {

// gRPC face of SchedulerService: proto <-> domain, role table.
class SchedulerGrpcService final : public ates::scheduler::v1::SchedulerService::Service {
 public:
  static constexpr const char* kName = "ates.scheduler.v1.SchedulerService";

  SchedulerGrpcService(SchedulerService& scheduler, platform::Authorizer& authz);

  grpc::Status CloseBillingCycle(grpc::ServerContext* ctx, const v1::CloseBillingCycleRequest* req,
                                 v1::CloseBillingCycleResponse* resp) override;
  grpc::Status ListClosedCycles(grpc::ServerContext* ctx, const v1::ListClosedCyclesRequest* req,
                                v1::ListClosedCyclesResponse* resp) override;

 private:
  SchedulerService& scheduler_;
  platform::Authorizer& authz_;
};

}  // namespace ates::scheduler
