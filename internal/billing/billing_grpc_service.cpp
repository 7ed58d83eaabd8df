#include "billing_grpc_service.hpp"

#include <google/protobuf/util/time_util.h>

#include "ates/platform/timestamps.hpp"

namespace ates::billing {
namespace {

using auth::Role;
using google::protobuf::util::TimeUtil;

// A response stays far below grpc.max_message_bytes; the counts are always whole.
constexpr int kMaxDifferences = 1000;

v1::TransactionKind Kind(const std::string& kind) {
  if (kind == "assign_fee") return v1::TRANSACTION_KIND_ASSIGN_FEE;
  if (kind == "completion_reward") return v1::TRANSACTION_KIND_COMPLETION_REWARD;
  if (kind == "payout") return v1::TRANSACTION_KIND_PAYOUT;
  return v1::TRANSACTION_KIND_UNSPECIFIED;
}

// The reconciliation counts in unix microseconds, as TASKS' events carry them.
google::protobuf::Timestamp TsMicros(int64_t unix_us) {
  return platform::ToTimestamp(
      std::chrono::system_clock::time_point(std::chrono::microseconds(unix_us)));
}

v1::DifferenceKind KindOf(DifferenceKind kind) {
  switch (kind) {
    case DifferenceKind::kMissing:
      return v1::DIFFERENCE_KIND_MISSING;
    case DifferenceKind::kUnexpected:
      return v1::DIFFERENCE_KIND_UNEXPECTED;
    case DifferenceKind::kDuplicated:
      return v1::DIFFERENCE_KIND_DUPLICATED;
    case DifferenceKind::kMismatched:
      return v1::DIFFERENCE_KIND_MISMATCHED;
  }
  return v1::DIFFERENCE_KIND_UNSPECIFIED;
}

void Fill(const ReconcileReport& r, v1::ReconcileDayResponse* out) {
  const DayReconciliation& d = r.day;
  out->set_business_date(d.business_date);
  *out->mutable_day_start() = TsMicros(r.day_start_us);
  *out->mutable_day_end() = TsMicros(r.day_end_us);
  out->set_assigned_events(d.assigned_events);
  out->set_completed_events(d.completed_events);
  out->set_postings(d.postings);
  out->set_missing(d.missing);
  out->set_unexpected(d.unexpected);
  out->set_duplicated(d.duplicated);
  out->set_mismatched(d.mismatched);
  for (const auto& a : d.accounts) {
    auto* acc = out->add_accounts();
    acc->set_account_id(a.account_id);
    acc->set_assigned_events(a.assigned_events);
    acc->set_completed_events(a.completed_events);
    acc->set_postings(a.postings);
    acc->set_missing(a.missing);
    acc->set_unexpected(a.unexpected);
    acc->set_duplicated(a.duplicated);
    acc->set_mismatched(a.mismatched);
    acc->set_expected_cents(a.expected_cents);
    acc->set_posted_cents(a.posted_cents);
  }
  int shown = 0;
  for (const auto& diff : d.differences) {
    if (shown++ == kMaxDifferences) break;
    auto* o = out->add_differences();
    o->set_kind(KindOf(diff.kind));
    o->set_event_id(diff.event_id);
    o->set_transaction_kind(Kind(diff.posting_kind));
    o->set_account_id(diff.account_id);
    o->set_task_id(diff.task_id);
    o->set_amount_cents(diff.amount_cents);
    *o->mutable_occurred_at() = TsMicros(diff.occurred_us);
    o->set_detail(diff.detail);
  }
  out->set_differences_omitted(static_cast<int64_t>(d.differences.size()) -
                               out->differences_size());
  out->set_stream_messages_read(r.messages_read);
  out->set_stream_messages_skipped(r.skipped);
  out->set_stream_copies(d.stream_copies);
  *out->mutable_stream_read_until() = TimeUtil::NanosecondsToTimestamp(r.read_until_ns);
}

void Fill(const DayEarnings& d, v1::DailyEarnings* out) {
  out->set_business_date(d.business_date);
  out->set_fees_charged_cents(d.fees_cents);
  out->set_rewards_paid_cents(d.rewards_cents);
  out->set_earnings_cents(d.fees_cents - d.rewards_cents);
}

void Fill(const TransactionRow& t, v1::Transaction* out) {
  out->set_id(t.id);
  out->set_account_id(t.account_id);
  out->set_account_login(t.account_login);
  out->set_account_name(t.account_name);
  out->set_kind(Kind(t.kind));
  out->set_amount_cents(t.amount_cents);
  out->set_task_id(t.task_id);
  out->set_task_title(t.task_title);
  out->set_task_jira_id(t.task_jira_id);
  out->set_business_date(t.business_date);
  *out->mutable_occurred_at() = platform::ToTimestamp(t.occurred_at);
}

void Fill(const PayoutRow& p, v1::Payout* out) {
  out->set_id(p.id);
  out->set_account_id(p.account_id);
  out->set_account_login(p.account_login);
  out->set_account_name(p.account_name);
  out->set_business_date(p.business_date);
  out->set_amount_cents(p.amount_cents);
  *out->mutable_paid_at() = platform::ToTimestamp(p.paid_at);
  out->set_email_sent(p.email_sent);
}

}  // namespace

BillingGrpcService::BillingGrpcService(BillingQueries& queries, Reconciler& reconciler)
    : queries_(queries), reconciler_(reconciler) {}

platform::ServicePolicy BillingGrpcService::Policy() {
  // Own account for everyone; any account, or "*" for all of them, for admin/accountant
  // (checked in BillingQueries: a worker or manager asking for either gets PERMISSION_DENIED).
  return platform::ServicePolicy::For<v1::BillingService>()
      .Authenticated("GetBalance")
      .Authenticated("ListTransactions")
      .Authenticated("ListPayouts")
      .Roles("GetManagementEarnings", {Role::kAdmin, Role::kAccountant})
      .Roles("ReconcileDay", {Role::kAdmin, Role::kAccountant});
}

grpc::Status BillingGrpcService::GetBalance(grpc::ServerContext* ctx,
                                            const v1::GetBalanceRequest* req,
                                            v1::GetBalanceResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    std::string account = req->account_id();
    resp->set_balance_cents(queries_.Balance(who, account));
    resp->set_account_id(account);
  });
}

grpc::Status BillingGrpcService::ListTransactions(grpc::ServerContext* ctx,
                                                  const v1::ListTransactionsRequest* req,
                                                  v1::ListTransactionsResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    auto page = queries_.Transactions(who, req->account_id(), {req->from_date(), req->to_date()},
                                      req->page_size(), req->page_token());
    for (const auto& t : page.items) Fill(t, resp->add_transactions());
    resp->set_next_page_token(page.next_page_token);
  });
}

grpc::Status BillingGrpcService::GetManagementEarnings(grpc::ServerContext* ctx,
                                                       const v1::GetManagementEarningsRequest* req,
                                                       v1::GetManagementEarningsResponse* resp) {
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
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
  return platform::Handle(*ctx, [&](const auth::Principal& who) {
    auto page = queries_.Payouts(who, req->account_id(), {req->from_date(), req->to_date()},
                                 req->page_size(), req->page_token());
    for (const auto& p : page.items) Fill(p, resp->add_payouts());
    resp->set_next_page_token(page.next_page_token);
  });
}

grpc::Status BillingGrpcService::ReconcileDay(grpc::ServerContext* ctx,
                                              const v1::ReconcileDayRequest* req,
                                              v1::ReconcileDayResponse* resp) {
  return platform::Handle(*ctx, [&] {
    auto report =
        reconciler_.ReconcileDay(req->business_date(), [ctx] { return ctx->IsCancelled(); });
    Fill(report, resp);
  });
}

}  // namespace ates::billing
