// ListTransactions and ListPayouts as the web app and `atesctl -o csv` read them:
// the account's login and name beside its id (from billing's accounts replica),
// the company-wide listing (account_id "*") for admin and accountant, and
// AIP-158 paging: capped sizes, tokens bound to their filter, every row once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "support/billing_helpers.hpp"

namespace ates::test {
namespace {

using ::ates::common::v1::ROLE_WORKER;
using ::testing::Contains;

class BillingListingTest : public BillingTest {
 protected:
  grpc::Status List(const std::string& token, const std::string& account, const std::string& from,
                    const std::string& to, int page_size, const std::string& page_token,
                    billv1::ListTransactionsResponse* out) {
    Call c(token);
    auto req = TransactionsRequest(account, from, to, page_size, page_token);
    return w().stub->ListTransactions(&c.ctx, req, out);
  }
  // Every transaction of [from, to] in the database, oldest first (by seq).
  std::vector<std::string> IdsInDatabase(const std::string& from, const std::string& to) {
    auto r = Query(w().billing_db,
                   "SELECT id::text FROM transactions WHERE business_date BETWEEN $1::date AND "
                   "$2::date ORDER BY seq",
                   {pg::Text(from), pg::Text(to)});
    std::vector<std::string> ids;
    for (int i = 0; i < r.Rows(); ++i) ids.push_back(r.String(i, 0));
    return ids;
  }
};

TEST_F(BillingListingTest, CompanyWideListingPagesEveryTransactionOnceOldestFirstWithNames) {
  const std::string d = w().NewDays(2);
  const std::string d2 = AddDays(d, 1), outside = AddDays(d, 2);
  const std::string a = w().NewWorker(), b = w().NewWorker();
  std::vector<Ev> evs;
  for (int i = 0; i < 6; ++i) {
    const std::string t = events::NewUuid();
    const std::string& who = i % 2 ? a : b;
    const std::string& day = i < 4 ? d : d2;
    evs.push_back(CreatedV2(t, "Listed " + std::to_string(i), "UP-7" + std::to_string(i), At(day)));
    evs.push_back(AssignedEv(t, who, At(day)));
    evs.push_back(CompletedEv(t, who, At(day, "13:00:00")));
  }
  const std::string late = events::NewUuid();  // a day after the range: not listed
  evs.push_back(AssignedEv(late, a, At(outside)));
  w().SendAll(evs);
  ASSERT_TRUE(w().Quiet());
  const auto expected = IdsInDatabase(d, d2);
  ASSERT_EQ(expected.size(), 12u);

  for (const std::string* token :
       std::vector<const std::string*>{&w().accountant.token, &w().admin_token}) {
    std::vector<std::string> seen;
    std::string page_token;
    int pages = 0;
    do {
      billv1::ListTransactionsResponse resp;
      auto s = List(*token, "*", d, d2, 5, page_token, &resp);
      ASSERT_TRUE(s.ok()) << Describe(s);
      ASSERT_LE(resp.transactions_size(), 5);
      for (const auto& t : resp.transactions()) {
        seen.push_back(t.id());
        ASSERT_TRUE(t.account_id() == a || t.account_id() == b);
        EXPECT_EQ(t.account_login(), BillingWorld::LoginOf(t.account_id()));
        EXPECT_EQ(t.account_name(), "Test " + BillingWorld::LoginOf(t.account_id()));
      }
      page_token = resp.next_page_token();
      ASSERT_LT(++pages, 100);
    } while (!page_token.empty());
    // No gaps, no repeats, oldest first, nothing outside the (inclusive) range.
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(pages, 3);
  }
}

TEST_F(BillingListingTest, PageSizeAboveTheMaximumIsCappedAndATokenIsBoundToItsFilter) {
  const std::string d = w().NewDays(1);
  const std::string a = w().NewWorker();
  std::vector<Ev> evs;
  for (int i = 0; i < 3; ++i) evs.push_back(AssignedEv(events::NewUuid(), a, At(d)));
  w().SendAll(evs);
  ASSERT_TRUE(w().Quiet());

  billv1::ListTransactionsResponse big;
  auto s = List(w().accountant.token, a, d, d, 100000, "", &big);
  ASSERT_TRUE(s.ok()) << "a page size above 500 is capped, not refused: " << Describe(s);
  EXPECT_EQ(big.transactions_size(), 3);

  billv1::ListTransactionsResponse first;
  ASSERT_TRUE(List(w().accountant.token, a, d, d, 1, "", &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  const std::string token = first.next_page_token();
  struct Other {
    const char* what;
    std::string account, from, to;
  };
  for (const auto& o : std::vector<Other>{{"another account", "*", d, d},
                                          {"another from_date", a, AddDays(d, -1), d},
                                          {"another to_date", a, d, AddDays(d, 1)}}) {
    SCOPED_TRACE(o.what);
    billv1::ListTransactionsResponse resp;
    s = List(w().accountant.token, o.account, o.from, o.to, 1, token, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
    EXPECT_THAT(BadRequestFields(s), Contains("page_token"));
    EXPECT_EQ(resp.transactions_size(), 0);
  }
  // The same filter with another page size goes on.
  billv1::ListTransactionsResponse rest;
  s = List(w().accountant.token, a, d, d, 10, token, &rest);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(rest.transactions_size(), 2);

  // A payouts token is not a transactions token.
  Call c(w().accountant.token);
  billv1::ListPayoutsRequest preq;
  preq.set_account_id(a);
  preq.set_from_date(d);
  preq.set_to_date(d);
  preq.set_page_token(token);
  billv1::ListPayoutsResponse presp;
  s = w().stub->ListPayouts(&c.ctx, preq, &presp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_THAT(BadRequestFields(s), Contains("page_token"));
}

TEST_F(BillingListingTest, AWorkersOwnLogShowsTheirLoginAndName) {
  const std::string d = w().NewDays(1);
  Person me = CreatePerson(*w().auth_stub, w().admin_token, "named-worker", ROLE_WORKER);
  w().SendAll({AssignedEv(events::NewUuid(), me.id, At(d))});
  ASSERT_TRUE(w().Quiet());
  auto log = AllTransactions(*w().stub, me.token, "", d, d);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].account_login(), "named-worker");
  EXPECT_EQ(log[0].account_name(), "Popug named-worker");
}

}  // namespace
}  // namespace ates::test
