#include "billing_queries.hpp"

#include "ates/platform/dates.hpp"
#include "ates/platform/error.hpp"
#include "ates/platform/events.hpp"
#include "ledger.hpp"

namespace ates::billing {
namespace {

constexpr std::string_view kToday = "SELECT (now() AT TIME ZONE $1)::date::text";
constexpr std::string_view kBalance = "SELECT balance_cents FROM balances WHERE account_id = $1";
constexpr std::string_view kTransactions =
    "SELECT t.seq, t.id, t.account_id, t.kind, t.amount_cents, COALESCE(t.task_id::text, ''),"
    " COALESCE(p.title, ''), COALESCE(p.jira_id, ''), t.business_date::text,"
    " EXTRACT(EPOCH FROM t.occurred_at)::float8"
    " FROM transactions t LEFT JOIN task_prices p ON p.task_id = t.task_id"
    " WHERE t.account_id = $1 AND t.business_date BETWEEN $2::date AND $3::date AND t.seq > $4"
    " ORDER BY t.seq LIMIT $5";
constexpr std::string_view kEarnings =
    "SELECT d::date::text,"
    " COALESCE(-sum(t.amount_cents) FILTER (WHERE t.kind = 'assign_fee'), 0),"
    " COALESCE(sum(t.amount_cents) FILTER (WHERE t.kind = 'completion_reward'), 0)"
    " FROM generate_series($1::date, $2::date, interval '1 day') AS d"
    " LEFT JOIN transactions t ON t.business_date = d::date"
    "  AND t.kind IN ('assign_fee', 'completion_reward')"
    " GROUP BY d ORDER BY d";
constexpr std::string_view kPayouts =
    "SELECT p.id, p.account_id, p.business_date::text, p.amount_cents,"
    " EXTRACT(EPOCH FROM p.paid_at)::float8, e.sent_at IS NOT NULL"
    " FROM payouts p LEFT JOIN payout_emails e ON e.payout_id = p.id"
    " WHERE ($1 = '' OR p.account_id = $1::uuid) AND p.business_date BETWEEN $2::date AND $3::date"
    " AND (p.business_date, p.id) > ($4::date, $5::uuid)"
    " ORDER BY p.business_date, p.id LIMIT $6";

int Limit(int page_size) {
  Validator v;
  v.Check(page_size >= 0 && page_size <= 500, "page_size", "must be 0..500 (0 means 100)");
  v.ThrowIfInvalid();
  return page_size == 0 ? 100 : page_size;
}

}  // namespace

bool SeesAllBilling(auth::Role role) {
  return role == auth::Role::kAdmin || role == auth::Role::kAccountant;
}

std::string BillingQueries::Today() {
  auto r = db_.WithRetry([&](pg::Connection& c) { return c.Exec(kToday, {pg::Text(time_zone_)}); });
  return r.String(0, 0);
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
  auto r =
      db_.WithRetry([&](pg::Connection& c) { return c.Exec(kBalance, {pg::Text(account_id)}); });
  return r.Rows() == 0 ? 0 : r.Int(0, 0);
}

Page<TransactionRow> BillingQueries::Transactions(const auth::Principal& caller,
                                                  std::string account_id, DateRange range,
                                                  int page_size, const std::string& token) {
  account_id = ResolveAccount(caller, account_id, false);
  int limit = Limit(page_size);
  auto [from, to] = ResolveRange(range, 3660);
  int64_t after = 0;
  if (!token.empty()) {
    try {
      after = std::stoll(token);
    } catch (...) {
      throw Error(ErrorCode::kInvalidArgument, "bad page_token",
                  {{"page_token", "must be a token returned by a previous call"}});
    }
  }
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(kTransactions, {pg::Text(account_id), pg::Text(from), pg::Text(to),
                                  pg::Int(after), pg::Int(limit + 1)});
  });
  Page<TransactionRow> page;
  for (int i = 0; i < r.Rows() && i < limit; ++i) {
    TransactionRow t;
    t.id = r.String(i, 1);
    t.account_id = r.String(i, 2);
    t.kind = r.String(i, 3);
    t.amount_cents = r.Int(i, 4);
    t.task_id = r.String(i, 5);
    t.task_title = r.String(i, 6);
    t.task_jira_id = r.String(i, 7);
    t.business_date = r.String(i, 8);
    t.occurred_at = std::stod(r.String(i, 9));
    page.items.push_back(std::move(t));
  }
  if (r.Rows() > limit) page.next_page_token = r.String(limit - 1, 0);
  return page;
}

std::vector<DayEarnings> BillingQueries::Earnings(const auth::Principal& caller, DateRange range,
                                                  DayEarnings* today) {
  if (!SeesAllBilling(caller.role)) {
    throw Error(ErrorCode::kPermissionDenied, "only admin and accountant see management earnings");
  }
  auto [from, to] = ResolveRange(range, 366);
  auto read = [&](const std::string& f, const std::string& t) {
    auto r = db_.WithRetry([&](pg::Connection& c) {
      return c.Exec(kEarnings, {pg::Text(f), pg::Text(t)});
    });
    std::vector<DayEarnings> days;
    for (int i = 0; i < r.Rows(); ++i) days.push_back({r.String(i, 0), r.Int(i, 1), r.Int(i, 2)});
    return days;
  };
  auto days = read(from, to);
  if (today) {
    std::string d = Today();
    *today = read(d, d).front();
  }
  return days;
}

Page<PayoutRow> BillingQueries::Payouts(const auth::Principal& caller, std::string account_id,
                                        DateRange range, int page_size, const std::string& token) {
  account_id = ResolveAccount(caller, account_id, true);
  int limit = Limit(page_size);
  auto [from, to] = ResolveRange(range, 3660);
  std::string after_date = "1970-01-01", after_id = "00000000-0000-0000-0000-000000000000";
  if (!token.empty()) {
    auto bar = token.find('|');
    if (bar == std::string::npos || !platform::ParseDate(token.substr(0, bar)) ||
        !events::IsUuid(token.substr(bar + 1))) {
      throw Error(ErrorCode::kInvalidArgument, "bad page_token",
                  {{"page_token", "must be a token returned by a previous call"}});
    }
    after_date = token.substr(0, bar);
    after_id = token.substr(bar + 1);
  }
  auto r = db_.WithRetry([&](pg::Connection& c) {
    return c.Exec(kPayouts, {pg::Text(account_id), pg::Text(from), pg::Text(to),
                             pg::Text(after_date), pg::Text(after_id), pg::Int(limit + 1)});
  });
  Page<PayoutRow> page;
  for (int i = 0; i < r.Rows() && i < limit; ++i) {
    page.items.push_back({r.String(i, 0), r.String(i, 1), r.String(i, 2), r.Int(i, 3),
                          std::stod(r.String(i, 4)), r.Bool(i, 5)});
  }
  if (r.Rows() > limit) {
    page.next_page_token = page.items.back().business_date + "|" + page.items.back().id;
  }
  return page;
}

}  // namespace ates::billing
