// `atesctl billing transactions|payouts` against real ates-auth and ates-billing:
// people by login and name rather than bare ids, -o csv (header, RFC 4180
// quoting, dollars with cents), and the company-wide export of a date range
// (--all / --account '*') following every page.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/billing_helpers.hpp"
#include "support/e2e_support.hpp"

#ifndef ATESCTL_BIN
#error "ATESCTL_BIN must be defined by the build"
#endif

namespace ates::test {
namespace {

using ::ates::common::v1::ROLE_WORKER;
using ::testing::HasSubstr;
using ::testing::Not;

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new BillingWorldEnvironment);

class AtesctlBillingTest : public BillingTest {
 protected:
  static std::string Dir() {
    std::string dir = TestStack::Get().dir() + "/atesctl-billing";
    std::filesystem::create_directories(dir);
    return dir;
  }
  static std::string TokenFile(const std::string& name, const std::string& token) {
    std::string path = Dir() + "/" + name;
    std::ofstream(path) << token << "\n";
    ::chmod(path.c_str(), 0600);
    return path;
  }
  e2e::CliResult Ctl(const std::string& token, std::vector<std::string> args) {
    std::vector<std::string> argv = {ATESCTL_BIN, "--billing", w().billing->target(),
                                     "--token-file", TokenFile("token", token)};
    for (auto& a : args) argv.push_back(std::move(a));
    return e2e::RunCli(argv, "", {{"HOME", Dir()}, {"NO_COLOR", "1"}});
  }
  static std::string Show(const e2e::CliResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
  }
  static std::vector<std::string> Lines(const std::string& text, const std::string& end = "\n") {
    std::vector<std::string> lines;
    size_t at = 0;
    while (at < text.size()) {
      size_t next = text.find(end, at);
      if (next == std::string::npos) next = text.size();
      lines.push_back(text.substr(at, next - at));
      at = next + end.size();
    }
    return lines;
  }
};

constexpr const char* kTransactionsHeader =
    "business_date,occurred_at,kind,amount,account_id,account_login,account_name,task_id,"
    "task_jira_id,task_title,transaction_id";

TEST_F(AtesctlBillingTest, CompanyWideCsvExportFollowsEveryPageWithNamesAndQuoting) {
  const std::string d = w().NewDays(2);
  const std::string d2 = AddDays(d, 1);
  const std::string a = w().NewWorker(), b = w().NewWorker();
  std::vector<Ev> evs;
  // 520 postings: more than one page of the 500 atesctl asks for.
  for (int i = 0; i < 260; ++i) {
    const std::string t = events::NewUuid();
    const std::string& day = i % 2 ? d2 : d;
    evs.push_back(CreatedV2(t, i == 0 ? "Feed, then \"clean\"" : "Task " + std::to_string(i),
                            "UP-" + std::to_string(i), At(day)));
    evs.push_back(AssignedEv(t, i % 3 ? a : b, At(day)));
    evs.push_back(CompletedEv(t, i % 3 ? a : b, At(day, "13:00:00")));
  }
  w().SendAll(evs);
  ASSERT_TRUE(w().Quiet());
  const int64_t in_db = QueryInt(
      w().billing_db,
      "SELECT count(*) FROM transactions WHERE business_date BETWEEN $1::date AND $2::date",
      {pg::Text(d), pg::Text(d2)});
  ASSERT_EQ(in_db, 520);

  auto csv = Ctl(w().accountant.token,
                 {"-o", "csv", "billing", "transactions", "--all", "--from", d, "--to", d2});
  ASSERT_EQ(csv.exit_code, 0) << Show(csv);
  auto lines = Lines(csv.out, "\r\n");
  ASSERT_EQ(lines.size(), 521u) << "a header and every row of every page";
  EXPECT_EQ(lines[0], kTransactionsHeader);
  std::set<std::string> ids;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto& line = lines[i];
    EXPECT_TRUE(line.starts_with(d + ",") || line.starts_with(d2 + ",")) << line;
    ids.insert(line.substr(line.rfind(',') + 1));
    const std::string& who = line.find(a) != std::string::npos ? a : b;
    EXPECT_THAT(line, HasSubstr("," + who + "," + BillingWorld::LoginOf(who) + ",Test " +
                                BillingWorld::LoginOf(who) + ","))
        << line;
  }
  EXPECT_EQ(ids.size(), 520u) << "no row twice";
  // The title with a comma and quotes is one quoted field.
  EXPECT_THAT(csv.out, HasSubstr(",UP-0,\"Feed, then \"\"clean\"\"\","));
  // Amounts in dollars with cents: the fee of task 0, negative.
  EXPECT_THAT(csv.out, testing::ContainsRegex(",assign_fee,-[0-9]+\\.[0-9][0-9],"));

  // --account '*' is the same listing.
  auto star = Ctl(w().admin_token, {"-o", "csv", "billing", "transactions", "--account", "*",
                                    "--from", d, "--to", d2});
  ASSERT_EQ(star.exit_code, 0) << Show(star);
  EXPECT_EQ(star.out, csv.out);
}

TEST_F(AtesctlBillingTest, TablesShowLoginAndNameNotBareIds) {
  const std::string d = w().NewDays(1);
  Person me = CreatePerson(*w().auth_stub, w().admin_token, "ctl-table-worker", ROLE_WORKER);
  const std::string t = events::NewUuid();
  w().SendAll({CreatedV2(t, "Polish the perch", "UP-900", At(d)), AssignedEv(t, me.id, At(d))});
  ASSERT_TRUE(w().Quiet());
  auto table = Ctl(me.token, {"billing", "transactions", "--date", d});
  ASSERT_EQ(table.exit_code, 0) << Show(table);
  auto lines = Lines(table.out);
  ASSERT_EQ(lines.size(), 2u) << table.out;
  EXPECT_THAT(lines[0], HasSubstr("ACCOUNT"));
  EXPECT_THAT(lines[0], HasSubstr("NAME"));
  EXPECT_THAT(lines[1], HasSubstr("ctl-table-worker"));
  EXPECT_THAT(lines[1], HasSubstr("Popug ctl-table-worker"));
  EXPECT_THAT(lines[1], Not(HasSubstr(me.id))) << "the account appears by login, not by id";
  EXPECT_THAT(lines[1], HasSubstr("Polish the perch"));

  // Payouts: close the day of a worker with a positive balance.
  const std::string d2 = w().NewDays(1);
  const std::string paid = w().NewWorker(), task = events::NewUuid();
  w().SendAll({CompletedEv(task, paid, At(d2))});
  ASSERT_TRUE(w().Quiet());
  ASSERT_FALSE(Publish(*w().js, ClosedEv(d2)).duplicate);
  ASSERT_TRUE(w().Quiet());
  ASSERT_TRUE(Eventually([&] {
    return QueryInt(w().billing_db, "SELECT count(*) FROM payouts WHERE account_id = $1",
                    {pg::Text(paid)}) == 1;
  }));
  auto payouts =
      Ctl(w().accountant.token, {"billing", "payouts", "--all", "--from", d2, "--to", d2});
  ASSERT_EQ(payouts.exit_code, 0) << Show(payouts);
  EXPECT_THAT(payouts.out, HasSubstr(BillingWorld::LoginOf(paid)));
  EXPECT_THAT(payouts.out, HasSubstr("Test " + BillingWorld::LoginOf(paid)));
  EXPECT_THAT(payouts.out, Not(HasSubstr(paid)));
  auto payouts_csv = Ctl(w().accountant.token, {"-o", "csv", "billing", "payouts", "--account", "*",
                                                "--from", d2, "--to", d2});
  ASSERT_EQ(payouts_csv.exit_code, 0) << Show(payouts_csv);
  auto rows = Lines(payouts_csv.out, "\r\n");
  ASSERT_EQ(rows.size(), 2u) << payouts_csv.out;
  EXPECT_EQ(rows[0],
            "business_date,account_id,account_login,account_name,amount,paid_at,email_sent,"
            "payout_id");
  EXPECT_TRUE(rows[1].starts_with(d2 + "," + paid + "," + BillingWorld::LoginOf(paid) + ",Test " +
                                  BillingWorld::LoginOf(paid) + ","))
      << rows[1];
  EXPECT_THAT(rows[1], testing::ContainsRegex(",[0-9]+\\.[0-9][0-9],"));
}

TEST_F(AtesctlBillingTest, AWorkerAskingForEveryAccountIsRefusedAndCsvElsewhereIsAUsageError) {
  Person me = CreatePerson(*w().auth_stub, w().admin_token, "ctl-nosy-worker", ROLE_WORKER);
  auto all = Ctl(me.token, {"-o", "csv", "billing", "transactions", "--all"});
  EXPECT_EQ(all.exit_code, 4) << Show(all);  // permission denied
  EXPECT_TRUE(all.out.empty()) << all.out;
  auto both = Ctl(me.token, {"billing", "transactions", "--all", "--account", me.id});
  EXPECT_EQ(both.exit_code, 2) << Show(both);
  auto balance = Ctl(me.token, {"-o", "csv", "billing", "balance"});
  EXPECT_EQ(balance.exit_code, 2) << Show(balance);
  EXPECT_THAT(balance.err, HasSubstr("-o csv"));
  auto help = Ctl(me.token, {"billing", "transactions", "--help"});
  EXPECT_EQ(help.exit_code, 0) << Show(help);
  EXPECT_THAT(help.out, HasSubstr("--all"));
  EXPECT_THAT(help.out, HasSubstr("-o csv"));
}

}  // namespace
}  // namespace ates::test
