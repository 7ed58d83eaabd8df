#include "billing_grpc_service.hpp"

#include <google/protobuf/util/time_util.h>

namespace ates::billing {
namespace {

using auth::Role;
using google::protobuf::util::TimeUtil;

const std::string kGetBalance = "ates.billing.v1.BillingService/GetBalance";
const std::string kListTransactions = "ates.billing.v1.BillingService/ListTransactions";
const std::string kGetEarnings = "ates.billing.v1.BillingService/GetManagementEarnings";
const std::string kListPayouts = "ates.billing.v1.BillingService/ListPayouts";

v1::TransactionKind Kind(const std::string& kind) {
  if (kind == "assign_fee") return v1::TRANSACTION_KIND_ASSIGN_FEE;
  if (kind == "completion_reward") return v1::TRANSACTION_KIND_COMPLETION_REWARD;
  if (kind == "payout") return v1::TRANSACTION_KIND_PAYOUT;
  return v1::TRANSACTION_KIND_UNSPECIFIED;
}

google::protobuf::Timestamp Ts(double unix_seconds) {
  return TimeUtil::MicrosecondsToTimestamp(static_cast<int64_t>(unix_seconds * 1e6));
}

void Fill(const DayEarnings& d, v1::DailyEarnings* out) {
  out->set_business_date(d.business_date);
  out->set_fees_charged_cents(d.fees_cents);
  out->set_rewards_paid_cents(d.rewards_cents);
  out->set_earnings_cents(d.fees_cents - d.rewards_cents);
}

}  // namespace

BillingGrpcService::BillingGrpcService(BillingQueries& queries, platform::Authorizer& authz)
    : queries_(queries), authz_(authz) {
  // Own account for everyone; any account for admin/accountant (checked in BillingQueries).
  authz_.AllowAuthenticated(kGetBalance);
  authz_.AllowAuthenticated(kListTransactions);
  authz_.AllowAuthenticated(kListPayouts);
  authz_.Allow(kGetEarnings, {Role::kAdmin, Role::kAccountant});
}

grpc::Status BillingGrpcService::GetBalance(grpc::ServerContext* ctx,
                                            const v1::GetBalanceRequest* req,
                                            v1::GetBalanceResponse* resp) {
  return platform::Handle(*ctx, [&] {
    auto who = authz_.Authorize(*ctx, kGetBalance);
    std::string account = req->account_id();
    resp->set_balance_cents(queries_.Balance(who, account));
    resp->set_account_id(account);
  });
}

grpc::Status BillingGrpcService::ListTransactions(grpc::ServerContext* ctx,
                                                  const v1::ListTransactionsRequest* req,
                                                  v1::ListTransactionsResponse* resp) {
  return platform::Handle(*ctx, [&] {
    auto who = authz_.Authorize(*ctx, kListTransactions);
    auto page = queries_.Transactions(who, req->account_id(), {req->from_date(), req->to_date()},
                                      req->page_size(), req->page_token());
    for (const auto& t : page.items) {
      auto* out = resp->add_transactions();
      out->set_id(t.id);
      out->set_account_id(t.account_id);
      out->set_kind(Kind(t.kind));
      out->set_amount_cents(t.amount_cents);
      out->set_task_id(t.task_id);
      out->set_task_title(t.task_title);
      out->set_task_jira_id(t.task_jira_id);
      out->set_business_date(t.business_date);
      *out->mutable_occurred_at() = Ts(t.occurred_at);
    }
    resp->set_next_page_token(page.next_page_token);
  });
}

grpc::Status BillingGrpcService::GetManagementEarnings(grpc::ServerContext* ctx,
                                                       const v1::GetManagementEarningsRequest* req,
                                                       v1::GetManagementEarningsResponse* resp) {
  return platform::Handle(*ctx, [&] {
    auto who = authz_.Authorize(*ctx, kGetEarnings);
    DayEarnings today;
    for (const auto& d : queries_.Earnings(who, {req->from_date(), req->to_date()}, &today)) {
      Fill(d, resp->add_days());
    }
    Fill(today, resp->mutable_today());
  });
}

grpc::Status BillingGrpcService::ListPayouts(grpc::ServerContext* ctx,
                                             const v1::ListPayoutsRequest* req,
                                             v1::ListPayoutsResponse* resp) {
  return platform::Handle(*ctx, [&] {
    auto who = authz_.Authorize(*ctx, kListPayouts);
    auto page = queries_.Payouts(who, req->account_id(), {req->from_date(), req->to_date()},
                                 req->page_size(), req->page_token());
    for (const auto& p : page.items) {
      auto* out = resp->add_payouts();
      out->set_id(p.id);
      out->set_account_id(p.account_id);
      out->set_business_date(p.business_date);
      out->set_amount_cents(p.amount_cents);
      *out->mutable_paid_at() = Ts(p.paid_at);
      out->set_email_sent(p.email_sent);
    }
    resp->set_next_page_token(page.next_page_token);
  });
}

}  // namespace ates::billing
