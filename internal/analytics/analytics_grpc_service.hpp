#pragma once

#include "analytics_queries.hpp"
#include "ates/analytics/v1/analytics_service.grpc.pb.h"
#include "ates/platform/rpc_status.hpp"

namespace ates::analytics {

// gRPC face of AnalyticsQueries; every method is admin only.
class AnalyticsGrpcService final : public ates::analytics::v1::AnalyticsService::Service {
 public:
  static constexpr const char* kName = "ates.analytics.v1.AnalyticsService";

  explicit AnalyticsGrpcService(AnalyticsQueries& queries);
  // Who may call each method (the platform enforces it before the handler runs).
  static platform::ServicePolicy Policy();

  grpc::Status GetDailySummary(grpc::ServerContext* ctx, const v1::GetDailySummaryRequest* req,
                               v1::GetDailySummaryResponse* resp) override;
  grpc::Status GetMostExpensiveTask(grpc::ServerContext* ctx,
                                    const v1::GetMostExpensiveTaskRequest* req,
                                    v1::GetMostExpensiveTaskResponse* resp) override;
  grpc::Status GetEarnings(grpc::ServerContext* ctx, const v1::GetEarningsRequest* req,
                           v1::GetEarningsResponse* resp) override;

 private:
  AnalyticsQueries& queries_;
};

}  // namespace ates::analytics
