// billing balance|transactions|earnings|payouts: BillingService.

#include <google/protobuf/util/time_util.h>

#include "ates/billing/v1/billing_service.grpc.pb.h"
#include "commands.hpp"

namespace ates::ctl {
namespace {

namespace v1 = ates::billing::v1;

constexpr auto kRight = Table::Align::kRight;

std::unique_ptr<v1::BillingService::Stub> Stub(Session& session) {
  return v1::BillingService::NewStub(session.Channel(Service::kBilling));
}

std::string KindName(v1::TransactionKind kind) {
  switch (kind) {
    case v1::TRANSACTION_KIND_ASSIGN_FEE:
      return "assign_fee";
    case v1::TRANSACTION_KIND_COMPLETION_REWARD:
      return "completion_reward";
    case v1::TRANSACTION_KIND_PAYOUT:
      return "payout";
    default:
      return "unspecified";
  }
}

using google::protobuf::util::TimeUtil;

// --account ID, or --all for every account ("*": admin and accountant).
std::string AccountOf(const ParsedArgs& args) {
  if (!args.Has("all")) return args.Get("account");
  if (args.Has("account")) throw UsageError("use either --account or --all");
  return "*";
}

// --date D, or --from D --to D, or neither (today).
DateRange DayOrRange(const ParsedArgs& args) {
  if (!args.Has("date")) return RangeOf(args);
  if (args.Has("from") || args.Has("to")) throw UsageError("use either --date or --from/--to");
  std::string day = CheckDate("--date", args.Get("date"));
  return {day, day};
}

int Balance(Session& session, const ParsedArgs& args) {
  v1::GetBalanceRequest req;
  req.set_account_id(args.Get("account"));
  v1::GetBalanceResponse resp;
  auto stub = Stub(session);
  session.Call(Service::kBilling,
               [&](grpc::ClientContext* ctx) { return stub->GetBalance(ctx, req, &resp); });
  session.Emit(resp, [&] {
    Table t({{"ACCOUNT"}, {"BALANCE", kRight}});
    t.AddRow({resp.account_id().empty() ? "(you)" : resp.account_id(),
              FormatCents(resp.balance_cents())});
    return t.Render();
  });
  return kExitOk;
}

std::string TransactionTable(const v1::ListTransactionsResponse& resp) {
  Table t({{"DATE"},
           {"OCCURRED"},
           {"KIND"},
           {"AMOUNT", kRight},
           {"JIRA"},
           {"TITLE"},
           {"TASK"},
           {"ACCOUNT"},
           {"NAME"}});
  for (const auto& tx : resp.transactions()) {
    t.AddRow({tx.business_date(), FormatUnixTime(tx.occurred_at().seconds()), KindName(tx.kind()),
              FormatCents(tx.amount_cents()), tx.task_jira_id(), tx.task_title(), tx.task_id(),
              LoginOrId(tx.account_login(), tx.account_id()), tx.account_name()});
  }
  return t.Render();
}

std::string TransactionCsv(const v1::ListTransactionsResponse& resp) {
  std::string out =
      CsvRecord({"business_date", "occurred_at", "kind", "amount", "account_id", "account_login",
                 "account_name", "task_id", "task_jira_id", "task_title", "transaction_id"});
  for (const auto& tx : resp.transactions()) {
    out +=
        CsvRecord({tx.business_date(), TimeUtil::ToString(tx.occurred_at()), KindName(tx.kind()),
                   FormatCents(tx.amount_cents()), tx.account_id(), tx.account_login(),
                   tx.account_name(), tx.task_id(), tx.task_jira_id(), tx.task_title(), tx.id()});
  }
  return out;
}

int Transactions(Session& session, const ParsedArgs& args) {
  auto range = DayOrRange(args);
  v1::ListTransactionsRequest first;
  first.set_account_id(AccountOf(args));
  first.set_from_date(range.from);
  first.set_to_date(range.to);
  auto stub = Stub(session);
  auto resp = ListAll<v1::ListTransactionsRequest, v1::ListTransactionsResponse>(
      session, Service::kBilling, first, LimitOf(args),
      [&](grpc::ClientContext* ctx, const auto& req, auto* page) {
        return stub->ListTransactions(ctx, req, page);
      },
      [](auto& r) -> auto& { return *r.mutable_transactions(); });
  session.Emit(
      resp, [&] { return TransactionTable(resp); }, [&] { return TransactionCsv(resp); });
  return kExitOk;
}

std::string EarningsTable(const v1::GetManagementEarningsResponse& resp) {
  Table t({{"DATE"}, {"FEES", kRight}, {"REWARDS", kRight}, {"EARNINGS", kRight}});
  std::int64_t fees = 0, rewards = 0, earnings = 0;
  for (const auto& d : resp.days()) {
    t.AddRow({d.business_date(), FormatCents(d.fees_charged_cents()),
              FormatCents(d.rewards_paid_cents()), FormatCents(d.earnings_cents())});
    fees += d.fees_charged_cents();
    rewards += d.rewards_paid_cents();
    earnings += d.earnings_cents();
  }
  if (resp.days_size() > 1) {
    t.AddRow({"total", FormatCents(fees), FormatCents(rewards), FormatCents(earnings)});
  }
  return t.Render();
}

int Earnings(Session& session, const ParsedArgs& args) {
  auto range = RangeOf(args);
  v1::GetManagementEarningsRequest req;
  req.set_from_date(range.from);
  req.set_to_date(range.to);
  v1::GetManagementEarningsResponse resp;
  auto stub = Stub(session);
  session.Call(Service::kBilling, [&](grpc::ClientContext* ctx) {
    return stub->GetManagementEarnings(ctx, req, &resp);
  });
  session.Emit(resp, [&] { return EarningsTable(resp); });
  return kExitOk;
}

std::string PayoutTable(const v1::ListPayoutsResponse& resp) {
  Table t({{"DATE"}, {"ACCOUNT"}, {"NAME"}, {"AMOUNT", kRight}, {"PAID"}, {"EMAILED"}, {"ID"}});
  for (const auto& p : resp.payouts()) {
    t.AddRow({p.business_date(), LoginOrId(p.account_login(), p.account_id()), p.account_name(),
              FormatCents(p.amount_cents()), FormatUnixTime(p.paid_at().seconds()),
              p.email_sent() ? "yes" : "no", p.id()});
  }
  return t.Render();
}

std::string PayoutCsv(const v1::ListPayoutsResponse& resp) {
  std::string out = CsvRecord({"business_date", "account_id", "account_login", "account_name",
                               "amount", "paid_at", "email_sent", "payout_id"});
  for (const auto& p : resp.payouts()) {
    out += CsvRecord({p.business_date(), p.account_id(), p.account_login(), p.account_name(),
                      FormatCents(p.amount_cents()), TimeUtil::ToString(p.paid_at()),
                      p.email_sent() ? "true" : "false", p.id()});
  }
  return out;
}

int Payouts(Session& session, const ParsedArgs& args) {
  auto range = RangeOf(args);
  v1::ListPayoutsRequest first;
  first.set_account_id(AccountOf(args));
  first.set_from_date(range.from);
  first.set_to_date(range.to);
  auto stub = Stub(session);
  auto resp = ListAll<v1::ListPayoutsRequest, v1::ListPayoutsResponse>(
      session, Service::kBilling, first, LimitOf(args),
      [&](grpc::ClientContext* ctx, const auto& req, auto* page) {
        return stub->ListPayouts(ctx, req, page);
      },
      [](auto& r) -> auto& { return *r.mutable_payouts(); });
  session.Emit(
      resp, [&] { return PayoutTable(resp); }, [&] { return PayoutCsv(resp); });
  return kExitOk;
}

FlagSpec AccountFlag() {
  return {"account", '\0', "ID", "account id (default: your own; admin, accountant: any)"};
}

FlagSpec EveryAccountFlag() {
  return {"account", '\0', "ID",
          "account id, or '*' for every account (admin, accountant); default: your own"};
}

FlagSpec AllFlag() {
  return {"all", '\0', "", "every account of the company, same as --account '*'"};
}

constexpr const char* kListingDetails =
    "ACCOUNT is the account's login (its id while billing has not heard of the account yet), "
    "NAME its full name. Every page is fetched (--limit stops early). -o csv prints RFC 4180 "
    "CSV with a header row, amounts in dollars with cents (-12.50) and dates as the server "
    "gives them, for spreadsheets and exports.";

}  // namespace

std::vector<Command> BillingCommands() {
  std::vector<Command> commands;
  commands.push_back({{.path = {"billing", "balance"},
                       .summary = "Show an account's current balance in dollars.",
                       .flags = {AccountFlag()},
                       .example = "atesctl billing balance"},
                      Balance});
  commands.push_back(
      {{.path = {"billing", "transactions"},
        .summary = "List an account's audit log, or every account's, for a day or a date range "
                   "(default: today).",
        .flags = {EveryAccountFlag(),
                  AllFlag(),
                  {"date", '\0', "DATE", "one day, YYYY-MM-DD"},
                  FromFlag(),
                  ToFlag(),
                  LimitFlag()},
        .example = "atesctl -o csv billing transactions --all --from 2024-05-01 --to 2024-05-31 "
                   "> may.csv",
        .details = kListingDetails,
        .csv = true},
       Transactions});
  commands.push_back(
      {{.path = {"billing", "earnings"},
        .summary = "Show management earnings per day: fees charged minus rewards paid "
                   "(admin, accountant).",
        .flags = {FromFlag(), ToFlag()},
        .example = "atesctl billing earnings --from 2024-05-01 --to 2024-05-31",
        .details = "Without --from/--to: today only."},
       Earnings});
  commands.push_back({{.path = {"billing", "payouts"},
                       .summary = "List end-of-day payouts (default: today's).",
                       .flags = {EveryAccountFlag(), AllFlag(), FromFlag(), ToFlag(), LimitFlag()},
                       .example = "atesctl billing payouts --all --from 2024-05-01 --to 2024-05-31",
                       .details = kListingDetails,
                       .csv = true},
                      Payouts});
  return commands;
}

}  // namespace ates::ctl
