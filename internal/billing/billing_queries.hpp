#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "ates/platform/pg.hpp"
#include "ates/platform/token.hpp"

namespace ates::billing {

struct TransactionRow {
  std::string id;
  std::string account_id;
  std::string account_login;  // from accounts_replica; "" while the replica has not seen it
  std::string account_name;
  std::string kind;  // assign_fee | completion_reward | payout
  int64_t amount_cents = 0;
  std::string task_id;
  std::string task_title;
  std::string task_jira_id;
  std::string business_date;
  std::chrono::system_clock::time_point occurred_at;
  static TransactionRow From(const pg::Row& row);
};

struct DayEarnings {
  std::string business_date;
  int64_t fees_cents = 0;
  int64_t rewards_cents = 0;
  static DayEarnings From(const pg::Row& row);
};

struct PayoutRow {
  std::string id;
  std::string account_id;
  std::string account_login;  // from accounts_replica; "" while the replica has not seen it
  std::string account_name;
  std::string business_date;
  int64_t amount_cents = 0;
  std::chrono::system_clock::time_point paid_at;
  bool email_sent = false;
  static PayoutRow From(const pg::Row& row);
};

template <class T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

struct DateRange {
  std::string from;  // "" = today
  std::string to;    // "" = from
};

// Read side of billing with its access rules: a worker (or manager) sees only
// their own account; admin and accountant see every account, and every account
// at once with account_id "*" (ListTransactions and ListPayouts).
class BillingQueries final {
 public:
  BillingQueries(pg::Pool& db, std::string time_zone) : db_(db), time_zone_(std::move(time_zone)) {}

  int64_t Balance(const auth::Principal& caller, std::string& account_id);
  Page<TransactionRow> Transactions(const auth::Principal& caller, std::string account_id,
                                    DateRange range, int page_size, const std::string& token);
  std::vector<DayEarnings> Earnings(const auth::Principal& caller, DateRange range,
                                    DayEarnings* today);
  Page<PayoutRow> Payouts(const auth::Principal& caller, std::string account_id, DateRange range,
                          int page_size, const std::string& token);

  std::string Today();

 private:
  std::string ResolveAccount(const auth::Principal& caller, const std::string& requested,
                             bool allow_all);
  std::pair<std::string, std::string> ResolveRange(const DateRange& range, int max_days);
  std::vector<DayEarnings> ReadEarnings(const std::string& from, const std::string& to);

  pg::Pool& db_;
  std::string time_zone_;
};

bool SeesAllBilling(auth::Role role);  // admin and accountant

}  // namespace ates::billing
