// analytics summary|most-expensive|earnings (AnalyticsService) and
// day close|list (SchedulerService).

#include "ates/analytics/v1/analytics_service.grpc.pb.h"
#include "ates/scheduler/v1/scheduler_service.grpc.pb.h"
#include "commands.hpp"

namespace ates::ctl {
namespace {

namespace av1 = ates::analytics::v1;
namespace sv1 = ates::scheduler::v1;

constexpr auto kRight = Table::Align::kRight;

std::unique_ptr<av1::AnalyticsService::Stub> AnalyticsStub(Session& session) {
  return av1::AnalyticsService::NewStub(session.Channel(Service::kAnalytics));
}

std::unique_ptr<sv1::SchedulerService::Stub> SchedulerStub(Session& session) {
  return sv1::SchedulerService::NewStub(session.Channel(Service::kScheduler));
}

std::string DateFlag(const ParsedArgs& args) {
  return args.Has("date") ? CheckDate("--date", args.Get("date")) : "";
}

av1::Period PeriodOf(const ParsedArgs& args) {
  if (!args.Has("period")) throw UsageError("missing --period");
  std::string period = OneOf("--period", args.Get("period"), {"day", "week", "month"});
  if (period == "day") return av1::PERIOD_DAY;
  return period == "week" ? av1::PERIOD_WEEK : av1::PERIOD_MONTH;
}

int Summary(Session& session, const ParsedArgs& args) {
  av1::GetDailySummaryRequest req;
  req.set_business_date(DateFlag(args));
  av1::GetDailySummaryResponse resp;
  auto stub = AnalyticsStub(session);
  session.Call(Service::kAnalytics,
               [&](grpc::ClientContext* ctx) { return stub->GetDailySummary(ctx, req, &resp); });
  session.Emit(resp, [&] {
    Table t({{"DATE"},
             {"FEES", kRight},
             {"REWARDS", kRight},
             {"EARNINGS", kRight},
             {"NEGATIVE_ACCOUNTS", kRight}});
    t.AddRow({resp.business_date(), FormatCents(resp.fees_charged_cents()),
              FormatCents(resp.rewards_paid_cents()), FormatCents(resp.earnings_cents()),
              std::to_string(resp.negative_balance_accounts())});
    return t.Render();
  });
  return kExitOk;
}

int MostExpensive(Session& session, const ParsedArgs& args) {
  av1::GetMostExpensiveTaskRequest req;
  req.set_period(PeriodOf(args));
  req.set_business_date(DateFlag(args));
  av1::GetMostExpensiveTaskResponse resp;
  auto stub = AnalyticsStub(session);
  session.Call(Service::kAnalytics, [&](grpc::ClientContext* ctx) {
    return stub->GetMostExpensiveTask(ctx, req, &resp);
  });
  session.Emit(resp, [&] {
    Table t({{"FROM"}, {"TO"}, {"REWARD", kRight}, {"JIRA"}, {"TITLE"}, {"COMPLETED"}, {"TASK"}});
    t.AddRow({resp.from_date(), resp.to_date(), FormatCents(resp.reward_cents()), resp.jira_id(),
              resp.title(), FormatUnixTime(resp.completed_at().seconds()), resp.task_id()});
    return t.Render();
  });
  return kExitOk;
}

int AnalyticsEarnings(Session& session, const ParsedArgs& args) {
  auto range = RangeOf(args);
  if (range.from.empty()) throw UsageError("missing --from and --to");
  av1::GetEarningsRequest req;
  req.set_from_date(range.from);
  req.set_to_date(range.to);
  av1::GetEarningsResponse resp;
  auto stub = AnalyticsStub(session);
  session.Call(Service::kAnalytics,
               [&](grpc::ClientContext* ctx) { return stub->GetEarnings(ctx, req, &resp); });
  session.Emit(resp, [&] {
    Table t({{"DATE"}, {"FEES", kRight}, {"REWARDS", kRight}, {"EARNINGS", kRight}});
    for (const auto& d : resp.days()) {
      t.AddRow({d.business_date(), FormatCents(d.fees_charged_cents()),
                FormatCents(d.rewards_paid_cents()), FormatCents(d.earnings_cents())});
    }
    return t.Render();
  });
  return kExitOk;
}

std::string CycleTable(const google::protobuf::RepeatedPtrField<sv1::ClosedCycle>& cycles,
                       const std::string* newly_closed) {
  std::vector<Table::Column> columns = {{"DATE"}, {"CLOSED"}, {"MANUAL"}, {"EVENT"}};
  if (newly_closed) columns.push_back({"NEWLY_CLOSED"});
  Table t(std::move(columns));
  for (const auto& c : cycles) {
    std::vector<std::string> row = {c.business_date(), FormatUnixTime(c.closed_at().seconds()),
                                    c.manual() ? "yes" : "no", c.event_id()};
    if (newly_closed) row.push_back(*newly_closed);
    t.AddRow(std::move(row));
  }
  return t.Render();
}

int CloseDay(Session& session, const ParsedArgs& args) {
  sv1::CloseBillingCycleRequest req;
  req.set_business_date(CheckDate("DATE", args.Positional(0)));
  sv1::CloseBillingCycleResponse resp;
  auto stub = SchedulerStub(session);
  session.Call(Service::kScheduler,
               [&](grpc::ClientContext* ctx) { return stub->CloseBillingCycle(ctx, req, &resp); });
  session.Emit(resp, [&] {
    google::protobuf::RepeatedPtrField<sv1::ClosedCycle> one;
    *one.Add() = resp.cycle();
    std::string newly = resp.newly_closed() ? "yes" : "no";
    return CycleTable(one, &newly);
  });
  return kExitOk;
}

int ListDays(Session& session, const ParsedArgs& args) {
  auto stub = SchedulerStub(session);
  auto resp = ListAll<sv1::ListClosedCyclesRequest, sv1::ListClosedCyclesResponse>(
      session, Service::kScheduler, {}, LimitOf(args),
      [&](grpc::ClientContext* ctx, const auto& req, auto* page) {
        return stub->ListClosedCycles(ctx, req, page);
      },
      [](auto& r) -> auto& { return *r.mutable_cycles(); });
  session.Emit(resp, [&] { return CycleTable(resp.cycles(), nullptr); });
  return kExitOk;
}

FlagSpec DateOption(const std::string& what) {
  return {"date", '\0', "DATE", what + ", YYYY-MM-DD (default: today)"};
}

}  // namespace

std::vector<Command> ReportCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {{.path = {"analytics", "summary"},
        .summary = "Show a day's management earnings and how many accounts went negative (admin).",
        .flags = {DateOption("the day")},
        .example = "atesctl analytics summary --date 2024-05-01"},
       Summary});
  commands.push_back(
      {{.path = {"analytics", "most-expensive"},
        .summary = "Show the highest-reward task completed in a day, week or month (admin).",
        .flags = {{"period", '\0', "PERIOD", "day, week (ISO, Monday-Sunday) or month (required)"},
                  DateOption("any day inside the period")},
        .example = "atesctl analytics most-expensive --period week --date 2024-05-01"},
       MostExpensive});
  commands.push_back({{.path = {"analytics", "earnings"},
                       .summary = "Show management earnings per day over a date range (admin).",
                       .flags = {FromFlag(), ToFlag()},
                       .example = "atesctl analytics earnings --from 2024-05-01 --to 2024-05-31"},
                      AnalyticsEarnings});
  commands.push_back(
      {{.path = {"day", "close"},
        .summary = "Close a business day: pay out positive balances (admin; idempotent).",
        .positionals = {{"DATE", true, "the day, YYYY-MM-DD, not after today"}},
        .example = "atesctl day close 2024-05-01"},
       CloseDay});
  commands.push_back({{.path = {"day", "list"},
                       .summary = "List closed business days, newest first (admin, accountant).",
                       .flags = {LimitFlag()},
                       .example = "atesctl day list --limit 7"},
                      ListDays});
  return commands;
}

}  // namespace ates::ctl
