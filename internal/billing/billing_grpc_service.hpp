#pragma once

#include "ates/billing/v1/billing_service.grpc.pb.h"
#include "ates/platform/rpc_status.hpp"
#include "billing_queries.hpp"
#include "reconciler.hpp"

namespace ates::billing {

// gRPC face of BillingQueries and the Reconciler: proto <-> rows, role table.
class BillingGrpcService final : public ates::billing::v1::BillingService::Service {
 public:
  static constexpr const char* kName = "ates.billing.v1.BillingService";

  BillingGrpcService(BillingQueries& queries, Reconciler& reconciler);
  // Who may call each method (the platform enforces it before the handler runs).
  static platform::ServicePolicy Policy();

  grpc::Status GetBalance(grpc::ServerContext* ctx, const v1::GetBalanceRequest* req,
                          v1::GetBalanceResponse* resp) override;
  grpc::Status ListTransactions(grpc::ServerContext* ctx, const v1::ListTransactionsRequest* req,
                                v1::ListTransactionsResponse* resp) override;
  grpc::Status GetManagementEarnings(grpc::ServerContext* ctx,
                                     const v1::GetManagementEarningsRequest* req,
                                     v1::GetManagementEarningsResponse* resp) override;
  grpc::Status ListPayouts(grpc::ServerContext* ctx, const v1::ListPayoutsRequest* req,
                           v1::ListPayoutsResponse* resp) override;
  grpc::Status ReconcileDay(grpc::ServerContext* ctx, const v1::ReconcileDayRequest* req,
                            v1::ReconcileDayResponse* resp) override;

 private:
  BillingQueries& queries_;
  Reconciler& reconciler_;
};

}  // namespace ates::billing
