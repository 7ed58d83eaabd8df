// audit reconcile: BillingService.ReconcileDay, the day's task events on TASKS
// against billing's ledger.

#include <algorithm>
#include <iostream>

#include "ates/billing/v1/billing_service.grpc.pb.h"
#include "commands.hpp"

namespace ates::ctl {
namespace {

namespace v1 = ates::billing::v1;

constexpr auto kRight = Table::Align::kRight;
// Reading a day back from the stream takes longer than other calls.
constexpr std::chrono::milliseconds kReconcileTimeout{std::chrono::minutes(5)};

std::string DifferenceName(v1::DifferenceKind kind) {
  switch (kind) {
    case v1::DIFFERENCE_KIND_MISSING:
      return "missing";
    case v1::DIFFERENCE_KIND_UNEXPECTED:
      return "unexpected";
    case v1::DIFFERENCE_KIND_DUPLICATED:
      return "duplicated";
    case v1::DIFFERENCE_KIND_MISMATCHED:
      return "mismatched";
    default:
      return "unspecified";
  }
}

std::string PostingName(v1::TransactionKind kind) {
  switch (kind) {
    case v1::TRANSACTION_KIND_ASSIGN_FEE:
      return "assign_fee";
    case v1::TRANSACTION_KIND_COMPLETION_REWARD:
      return "completion_reward";
    default:
      return "-";
  }
}

int64_t DifferencesOf(const v1::ReconcileDayResponse& r) {
  return r.missing() + r.unexpected() + r.duplicated() + r.mismatched();
}

int64_t DifferencesOf(const v1::AccountReconciliation& a) {
  return a.missing() + a.unexpected() + a.duplicated() + a.mismatched();
}

std::string ReconcileTable(const v1::ReconcileDayResponse& r, bool all_accounts) {
  Table day({{"DATE"},
             {"ASSIGNED", kRight},
             {"COMPLETED", kRight},
             {"POSTINGS", kRight},
             {"MISSING", kRight},
             {"UNEXPECTED", kRight},
             {"DUPLICATED", kRight},
             {"MISMATCHED", kRight}});
  day.AddRow({r.business_date(), std::to_string(r.assigned_events()),
              std::to_string(r.completed_events()), std::to_string(r.postings()),
              std::to_string(r.missing()), std::to_string(r.unexpected()),
              std::to_string(r.duplicated()), std::to_string(r.mismatched())});
  std::string out = day.Render();

  Table accounts({{"ACCOUNT"},
                  {"ASSIGNED", kRight},
                  {"COMPLETED", kRight},
                  {"POSTINGS", kRight},
                  {"MISSING", kRight},
                  {"UNEXPECTED", kRight},
                  {"DUPLICATED", kRight},
                  {"MISMATCHED", kRight},
                  {"EXPECTED", kRight},
                  {"POSTED", kRight}});
  for (const auto& a : r.accounts()) {
    if (!all_accounts && DifferencesOf(a) == 0) continue;
    accounts.AddRow({a.account_id(), std::to_string(a.assigned_events()),
                     std::to_string(a.completed_events()), std::to_string(a.postings()),
                     std::to_string(a.missing()), std::to_string(a.unexpected()),
                     std::to_string(a.duplicated()), std::to_string(a.mismatched()),
                     FormatCents(a.expected_cents()), FormatCents(a.posted_cents())});
  }
  if (accounts.rows() > 0) out += "\n" + accounts.Render();

  Table diffs({{"DIFFERENCE"},
               {"POSTING"},
               {"EVENT"},
               {"ACCOUNT"},
               {"TASK"},
               {"AMOUNT", kRight},
               {"OCCURRED"},
               {"DETAIL"}});
  for (const auto& d : r.differences()) {
    diffs.AddRow({DifferenceName(d.kind()), PostingName(d.transaction_kind()), d.event_id(),
                  d.account_id(), d.task_id(), FormatCents(d.amount_cents()),
                  FormatUnixTime(d.occurred_at().seconds()), OneLine(d.detail())});
  }
  if (diffs.rows() > 0) out += "\n" + diffs.Render();
  if (r.differences_omitted() > 0) {
    out += "(" + std::to_string(r.differences_omitted()) + " more differences not listed)\n";
  }
  return out;
}

int Reconcile(Session& session, const ParsedArgs& args) {
  v1::ReconcileDayRequest req;
  if (args.Has("date")) req.set_business_date(CheckDate("--date", args.Get("date")));
  Options options = session.options();
  if (!args.Has("timeout")) options.timeout = std::max(options.timeout, kReconcileTimeout);
  Session slow(options);
  auto stub = v1::BillingService::NewStub(slow.Channel(Service::kBilling));
  v1::ReconcileDayResponse resp;
  slow.Call(Service::kBilling,
            [&](grpc::ClientContext* ctx) { return stub->ReconcileDay(ctx, req, &resp); });
  slow.Emit(resp, [&] { return ReconcileTable(resp, args.Has("all-accounts")); });
  const int64_t differences = DifferencesOf(resp);
  if (differences == 0) return kExitOk;
  std::cerr << "atesctl: " << differences << " difference" << (differences == 1 ? "" : "s")
            << " between TASKS and the ledger on " << resp.business_date() << "\n";
  return kExitDifferences;
}

}  // namespace

std::vector<Command> AuditCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {{.path = {"audit", "reconcile"},
        .summary = "Compare a day's task events on TASKS with the ledger's postings "
                   "(admin, accountant).",
        .flags = {{"date", '\0', "DATE", "the business day, YYYY-MM-DD (default: today)"},
                  {"all-accounts", '\0', "",
                   "list every account of the day, not only those "
                   "with differences (table output)"}},
        .example = "atesctl audit reconcile --date 2024-05-01",
        .details = "Every tasks.task.assigned and tasks.task.completed event whose time falls in "
                   "the business day needs exactly one posting (a fee or a reward) with the "
                   "event's id. Reports events without a posting (missing), postings without "
                   "an event (unexpected, or duplicated when the task already has as many "
                   "postings of that kind as events) and postings that disagree with their "
                   "event (mismatched), per account. Exits with 9 when there is any "
                   "difference. Today's events that billing has not applied yet show as "
                   "missing. Without --timeout the call may take up to 5 minutes."},
       Reconcile});
  return commands;
}

}  // namespace ates::ctl
