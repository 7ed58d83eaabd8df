#include "billing_queries.hpp"

#include "ates/platform/dates.hpp"
#include "ates/platform/error.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/page_token.hpp"
#include "ates/platform/timestamps.hpp"
#include "billing/queries.hpp"
#include "ledger.hpp"

namespace ates::billing {
namespace {

// The filter a ListTransactions or ListPayouts token is bound to: the resolved
// account ("" = every account) and dates.
platform::PageFilter DatedFilter(std::string_view method, const std::string& account,
                                 const std::string& from, const std::string& to) {
  return platform::PageFilter(method)
      .Add("account_id", account)
      .Add("from_date", from)
      .Add("to_date", to);
}

// The seq of the transaction a ListTransactions page starts after (0 on the first page).
int64_t TransactionsAfter(const platform::PageRequest& page) {
  if (!page.cursor()) return 0;
  try {
    size_t used = 0;
    int64_t seq = std::stoll(*page.cursor(), &used);
    if (used == page.cursor()->size() && seq >= 0) return seq;
  } catch (const std::exception&) {
  }
  platform::ThrowBadPageToken();
}

// The (business date, payout id) a ListPayouts page starts after: "<date>|<id>".
std::pair<std::string, std::string> PayoutsAfter(const platform::PageRequest& page) {
  if (!page.cursor()) return {"1970-01-01", "00000000-0000-0000-0000-000000000000"};
  const std::string& cursor = *page.cursor();
  auto bar = cursor.find('|');
  if (bar == std::string::npos || !platform::ParseDate(cursor.substr(0, bar)) ||
      !events::IsUuid(cursor.substr(bar + 1))) {
    platform::ThrowBadPageToken();
  }
  return {cursor.substr(0, bar), cursor.substr(bar + 1)};
}

}  // namespace

TransactionRow TransactionRow::From(const pg::Row& row) {
  return {row.String("id"),
          row.String("account_id"),
          row.String("account_login"),
          row.String("account_name"),
          row.String("kind"),
          row.Int("amount_cents"),
          row.String("task_id"),
          row.String("task_title"),
          row.String("task_jira_id"),
          row.String("business_date"),
          platform::FromEpochText(row.Text("occurred_at"))};
}

DayEarnings DayEarnings::From(const pg::Row& row) {
  return {row.String("business_date"), row.Int("fees_cents"), row.Int("rewards_cents")};
}

PayoutRow PayoutRow::From(const pg::Row& row) {
  return {row.String("id"),
          row.String("account_id"),
          row.String("account_login"),
          row.String("account_name"),
          row.String("business_date"),
          row.Int("amount_cents"),
          platform::FromEpochText(row.Text("paid_at")),
          row.Bool("email_sent")};
}

bool SeesAllBilling(auth::Role role) {
  return role == auth::Role::kAdmin || role == auth::Role::kAccountant;
}

std::string BillingQueries::Today() {
  auto r = db_.WithRetry(
      [&](pg::Connection& c) { return c.Exec(sql::kSelectToday, {pg::Text(time_zone_)}); });
  return r.At(0).String("today");
}

std::string BillingQueries::ResolveAccount(const auth::Principal& caller,
                                           const std::string& requested, bool allow_all) {
  if (requested.empty()) return caller.account_id;
  if (requested == "*") {
    if (!allow_all) {
      throw Error(ErrorCode::kInvalidArgument, "account_id '*' is not allowed here",
                  {{"account_id", "an account id (UUID), or empty for your own"}});
    }
    if (!SeesAllBilling(caller.role)) {
      throw Error(ErrorCode::kPermissionDenied, "only admin and accountant see every account");
    }
    return "";
  }
  if (!events::IsUuid(requested)) {
    throw Error(ErrorCode::kInvalidArgument, "account_id must be a UUID",
                {{"account_id", "an account id (UUID), or empty for your own"}});
  }
  if (requested != caller.account_id && !SeesAllBilling(caller.role)) {
    throw Error(ErrorCode::kPermissionDenied, "you may only see your own account");
  }
  return requested;
}

std::pair<std::string, std::string> BillingQueries::ResolveRange(const DateRange& range,
                                                                 int max_days) {
  Validator v;
  auto from = range.from.empty() ? std::nullopt : platform::ParseDate(range.from);
  auto to = range.to.empty() ? std::nullopt : platform::ParseDate(range.to);
  v.Check(range.from.empty() || from.has_value(), "from_date", "must be a date YYYY-MM-DD");
  v.Check(range.to.empty() || to.has_value(), "to_date", "must be a date YYYY-MM-DD");
  v.ThrowIfInvalid();
  std::string f = from ? platform::FormatDate(*from) : (to ? platform::FormatDate(*to) : Today());
  std::string t = to ? platform::FormatDate(*to) : f;
  auto fd = *platform::ParseDate(f);
  auto td = *platform::ParseDate(t);
  v.Check(platform::DaysBetween(fd, td) >= 0, "to_date", "must not be before from_date");
  v.Check(platform::DaysBetween(fd, td) < max_days, "to_date",
          "range is limited to " + std::to_string(max_days) + " days");
  v.ThrowIfInvalid();
  return {f, t};
}

int64_t BillingQueries::Balance(const auth::Principal& caller, std::string& account_id) {
  account_id = ResolveAccount(caller, account_id, false);
  auto r = db_.WithRetry(
      [&](pg::Connection& c) { return c.Exec(sql::kSelectBalance, {pg::Text(account_id)}); });
  return r.Rows() == 0 ? 0 : r.At(0).Int("balance_cents");
}

Page<TransactionRow> BillingQueries::Transactions(const auth::Principal& caller,
                                                  std::string account_id, DateRange range,
                                                  int page_size, const std::string& token) {
  account_id = ResolveAccount(caller, account_id, true);
  auto [from, to] = ResolveRange(range, 3660);
  auto page = platform::PageRequest::Read(page_size, token,
                                          DatedFilter("ListTransactions", account_id, from, to));
  int64_t after = TransactionsAfter(page);
  int limit = page.limit();
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(sql::kSelectTransactions, {pg::Text(account_id), pg::Text(from), pg::Text(to),
                                             pg::Int(after), pg::Int(limit + 1)});
  });
  Page<TransactionRow> out;
  for (int i = 0; i < r.Rows() && i < limit; ++i)
    out.items.push_back(TransactionRow::From(r.At(i)));
  if (r.Rows() > limit) out.next_page_token = page.NextToken(r.At(limit - 1).String("seq"));
  return out;
}

std::vector<DayEarnings> BillingQueries::Earnings(const auth::Principal& caller, DateRange range,
                                                  DayEarnings* today) {
  if (!SeesAllBilling(caller.role)) {
    throw Error(ErrorCode::kPermissionDenied, "only admin and accountant see management earnings");
  }
  auto [from, to] = ResolveRange(range, 366);
  auto days = ReadEarnings(from, to);
  if (today) {
    std::string d = Today();
    *today = ReadEarnings(d, d).front();
  }
  return days;
}

std::vector<DayEarnings> BillingQueries::ReadEarnings(const std::string& from,
                                                      const std::string& to) {
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(sql::kSelectEarnings, {pg::Text(from), pg::Text(to)});
  });
  std::vector<DayEarnings> days;
  days.reserve(r.Rows());
  for (int i = 0; i < r.Rows(); ++i) days.push_back(DayEarnings::From(r.At(i)));
  return days;
}

Page<PayoutRow> BillingQueries::Payouts(const auth::Principal& caller, std::string account_id,
                                        DateRange range, int page_size, const std::string& token) {
  account_id = ResolveAccount(caller, account_id, true);
  auto [from, to] = ResolveRange(range, 3660);
  auto page = platform::PageRequest::Read(page_size, token,
                                          DatedFilter("ListPayouts", account_id, from, to));
  auto [after_date, after_id] = PayoutsAfter(page);
  int limit = page.limit();
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(sql::kSelectPayouts,
                  {pg::Text(account_id), pg::Text(from), pg::Text(to), pg::Text(after_date),
                   pg::Text(after_id), pg::Int(limit + 1)});
  });
  Page<PayoutRow> out;
  for (int i = 0; i < r.Rows() && i < limit; ++i) out.items.push_back(PayoutRow::From(r.At(i)));
  if (r.Rows() > limit) {
    out.next_page_token =
        page.NextToken(out.items.back().business_date + "|" + out.items.back().id);
  }
  return out;
}

}  // namespace ates::billing
