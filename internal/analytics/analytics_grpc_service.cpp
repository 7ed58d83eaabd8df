#include "analytics_grpc_service.hpp"

#include "ates/platform/timestamps.hpp"

namespace ates::analytics {
AnalyticsGrpcService::AnalyticsGrpcService(AnalyticsQueries& queries) : queries_(queries) {}

platform::ServicePolicy AnalyticsGrpcService::Policy() {
  return platform::ServicePolicy::For<v1::AnalyticsService>()
      .Roles("GetDailySummary", {auth::Role::kAdmin})
      .Roles("GetMostExpensiveTask", {auth::Role::kAdmin})
      .Roles("GetEarnings", {auth::Role::kAdmin});
}

grpc::Status AnalyticsGrpcService::GetDailySummary(grpc::ServerContext* ctx,
                                                   const v1::GetDailySummaryRequest* req,
                                                   v1::GetDailySummaryResponse* resp) {
  return platform::Handle(*ctx, [&] {
    auto s = queries_.Summary(req->business_date());
    resp->set_business_date(s.business_date);
    resp->set_fees_charged_cents(s.fees_cents);
    resp->set_rewards_paid_cents(s.rewards_cents);
    resp->set_earnings_cents(s.fees_cents - s.rewards_cents);
    resp->set_negative_balance_accounts(s.negative_accounts);
  });
}

grpc::Status AnalyticsGrpcService::GetMostExpensiveTask(grpc::ServerContext* ctx,
                                                        const v1::GetMostExpensiveTaskRequest* req,
                                                        v1::GetMostExpensiveTaskResponse* resp) {
  return platform::Handle(*ctx, [&] {
    Period period;
    switch (req->period()) {
      case v1::PERIOD_DAY:
        period = Period::kDay;
        break;
      case v1::PERIOD_WEEK:
        period = Period::kWeek;
        break;
      case v1::PERIOD_MONTH:
        period = Period::kMonth;
        break;
      default:
        throw Error(ErrorCode::kInvalidArgument, "period must be DAY, WEEK or MONTH",
                    {{"period", "must be PERIOD_DAY, PERIOD_WEEK or PERIOD_MONTH"}});
    }
    auto t = queries_.MostExpensive(period, req->business_date());
    resp->set_task_id(t.task_id);
    resp->set_title(t.title);
    resp->set_jira_id(t.jira_id);
    resp->set_reward_cents(t.reward_cents);
    *resp->mutable_completed_at() = platform::ToTimestamp(t.completed_at);
    resp->set_from_date(t.from_date);
    resp->set_to_date(t.to_date);
  });
}

grpc::Status AnalyticsGrpcService::GetEarnings(grpc::ServerContext* ctx,
                                               const v1::GetEarningsRequest* req,
                                               v1::GetEarningsResponse* resp) {
  return platform::Handle(*ctx, [&] {
    for (const auto& d : queries_.Earnings(req->from_date(), req->to_date())) {
      auto* out = resp->add_days();
      out->set_business_date(d.business_date);
      out->set_fees_charged_cents(d.fees_cents);
      out->set_rewards_paid_cents(d.rewards_cents);
      out->set_earnings_cents(d.fees_cents - d.rewards_cents);
    }
  });
}

}  // namespace ates::analytics
