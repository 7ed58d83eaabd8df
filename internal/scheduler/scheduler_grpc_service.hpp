#pragma once

#include "ates/platform/rpc_status.hpp"
#include "ates/scheduler/v1/scheduler_service.grpc.pb.h"
#include "scheduler_service.hpp"

namespace ates::scheduler {

// gRPC face of SchedulerService: proto <-> domain, role table.
class SchedulerGrpcService final : public ates::scheduler::v1::SchedulerService::Service {
 public:
  static constexpr const char* kName = "ates.scheduler.v1.SchedulerService";

  explicit SchedulerGrpcService(SchedulerService& scheduler);
  // Who may call each method (the platform enforces it before the handler runs).
  static platform::ServicePolicy Policy();

  grpc::Status CloseBillingCycle(grpc::ServerContext* ctx, const v1::CloseBillingCycleRequest* req,
                                 v1::CloseBillingCycleResponse* resp) override;
  grpc::Status ListClosedCycles(grpc::ServerContext* ctx, const v1::ListClosedCyclesRequest* req,
                                v1::ListClosedCyclesResponse* resp) override;

 private:
  SchedulerService& scheduler_;
};

}  // namespace ates::scheduler
