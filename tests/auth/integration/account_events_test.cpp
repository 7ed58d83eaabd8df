// Events of ates-auth through the transactional outbox: what lands on the
// ACCOUNTS stream, and that nothing is lost or doubled while NATS is down.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "ates/platform/events.hpp"
#include "support/auth_helpers.hpp"
#include "support/test_stack.hpp"
#include "support/wait.hpp"

namespace ates::test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// One ates-auth daemon publishing to the stack's NATS, with its own database.
class AuthEvents {
 public:
  AuthEvents(const std::string& name, std::map<std::string, std::string> env = {}) {
    auto& stack = TestStack::Get();
    db_url = stack.CreateDatabase(name);
    daemon = std::make_unique<Daemon>(AuthDaemon(name, db_url, std::move(env)));
    daemon->Start();
    stub = authv1::AuthService::NewStub(daemon->channel());
    authv1::LoginResponse resp;
    Call c;
    authv1::LoginRequest req;
    req.set_login(kAdminLogin);
    req.set_password(kAdminPassword);
    auto s = stub->Login(&c.ctx, req, &resp);
    if (!s.ok()) throw std::runtime_error("admin login: " + Describe(s));
    admin_token = resp.access_token();
  }

  grpc::Status Create(const authv1::CreateAccountRequest& req, authv1::Account* out) {
    Call c(admin_token);
    authv1::CreateAccountResponse resp;
    auto s = stub->CreateAccount(&c.ctx, req, &resp);
    *out = resp.account();
    return s;
  }

  grpc::Status Update(const authv1::UpdateAccountRequest& req, authv1::Account* out) {
    Call c(admin_token);
    authv1::UpdateAccountResponse resp;
    auto s = stub->UpdateAccount(&c.ctx, req, &resp);
    *out = resp.account();
    return s;
  }

  // SIGTERM; returns the exit code. Our connection is closed first, or the
  // daemon waits out its drain grace for it.
  int Stop() {
    stub.reset();
    return daemon->Stop();
  }

  int64_t Unpublished() {
    return QueryInt(db_url, "SELECT count(*) FROM outbox WHERE published_at IS NULL");
  }

  std::string db_url;
  std::unique_ptr<Daemon> daemon;
  std::unique_ptr<authv1::AuthService::Stub> stub;
  std::string admin_token;
};

class AccountEventsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      js_ = new JsClient(TestStack::Get().nats_url());
      // Published rows are kept for an hour, so a test can compare the outbox
      // row's id with the Nats-Msg-Id of the message.
      auth_ = new AuthEvents("auth_events", {{"ATES_OUTBOX_RETENTION", "1h"}});
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }

  static void TearDownTestSuite() {
    if (auth_ != nullptr) {
      EXPECT_EQ(auth_->Stop(), 0);
      delete auth_;
      auth_ = nullptr;
    }
    delete js_;
    js_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  // Waits until `n` messages about the account are on ACCOUNTS; returns them all.
  static std::vector<StreamMessage> AwaitEvents(const std::string& account_id, size_t n) {
    std::vector<StreamMessage> about;
    bool ok = Eventually([&] {
      about = MessagesAbout(js_->Read("ACCOUNTS"), account_id);
      return about.size() >= n;
    });
    EXPECT_TRUE(ok) << "only " << about.size() << " of " << n << " events for " << account_id;
    return about;
  }

  // Creates a marker account through `auth` and waits for its event: every
  // event committed earlier by that daemon is on the stream by then.
  static void Barrier(AuthEvents& auth) {
    static int counter = 0;
    authv1::Account marker;
    auto s = auth.Create(NewAccountRequest("barrier-" + std::to_string(++counter)), &marker);
    ASSERT_TRUE(s.ok()) << Describe(s);
    AwaitEvents(marker.id(), 1);
  }

  static inline std::string* setup_error_ = nullptr;
  static inline JsClient* js_ = nullptr;
  static inline AuthEvents* auth_ = nullptr;
};

TEST_F(AccountEventsTest, AccountCreatedIsOneEventWhoseMsgIdIsTheEventId) {
  authv1::Account account;
  auto s = auth_->Create(NewAccountRequest("created-popug", ::ates::common::v1::ROLE_ACCOUNTANT),
                         &account);
  ASSERT_TRUE(s.ok()) << Describe(s);
  AwaitEvents(account.id(), 1);
  Barrier(*auth_);  // a second copy, if any, would now be on the stream too
  auto about = MessagesAbout(js_->Read("ACCOUNTS"), account.id());
  ASSERT_EQ(about.size(), 1u);
  const auto& m = about[0];
  EXPECT_EQ(m.subject, "accounts.account.created");

  pg::Connection db(auth_->db_url);
  auto row = db.Exec(
      "SELECT id::text, published_at IS NOT NULL FROM outbox"
      " WHERE aggregate_id = $1 AND event_type = 'accounts.account.created'",
      {pg::Text(account.id())});
  ASSERT_EQ(row.Rows(), 1);
  EXPECT_TRUE(row.Bool(0, 1)) << "outbox row not marked published";
  std::string event_id = row.String(0, 0);
  EXPECT_TRUE(events::IsUuid(event_id));
  EXPECT_EQ(m.Header("Nats-Msg-Id"), event_id);
  EXPECT_EQ(m.Header("Ates-Event-Name"), "accounts.account.created");
  EXPECT_EQ(m.Header("Ates-Event-Version"), "1");
  EXPECT_EQ(m.Header("Ates-Producer"), "ates-auth");
  EXPECT_THAT(m.Header("Ates-Occurred-At"), StartsWith("20"));
  EXPECT_THAT(m.Header("Ates-Occurred-At"), HasSubstr("T"));
  EXPECT_FALSE(m.Header("Ates-Correlation-Id").empty());

  accv1::AccountCreated body;
  ASSERT_TRUE(body.ParseFromString(m.data));
  EXPECT_EQ(body.account().account_id(), account.id());
  EXPECT_EQ(body.account().login(), "created-popug");
  EXPECT_EQ(body.account().email(), "created-popug@example.com");
  EXPECT_EQ(body.account().full_name(), "Popug created-popug");
  EXPECT_EQ(body.account().role(), ::ates::common::v1::ROLE_ACCOUNTANT);
  EXPECT_TRUE(body.account().active());
  EXPECT_EQ(body.account().version(), 1);
}

TEST_F(AccountEventsTest, UpdatesPublishFullStateWithVersionAndRoleChanges) {
  authv1::Account account;
  ASSERT_TRUE(auth_->Create(NewAccountRequest("updated-popug"), &account).ok());
  AwaitEvents(account.id(), 1);

  // 1. Role change: updated v2 plus role_changed v2, caused by the update.
  authv1::UpdateAccountRequest promote;
  promote.set_account_id(account.id());
  promote.set_role(::ates::common::v1::ROLE_MANAGER);
  authv1::Account after;
  auto s = auth_->Update(promote, &after);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(after.version(), 2);
  auto about = AwaitEvents(account.id(), 3);
  ASSERT_EQ(about.size(), 3u);
  EXPECT_EQ(about[1].subject, "accounts.account.updated");
  EXPECT_EQ(about[2].subject, "accounts.account.role_changed");
  accv1::AccountUpdated updated;
  ASSERT_TRUE(updated.ParseFromString(about[1].data));
  EXPECT_EQ(updated.account().version(), 2);
  EXPECT_EQ(updated.account().role(), ::ates::common::v1::ROLE_MANAGER);
  EXPECT_EQ(updated.account().login(), "updated-popug");  // full state, not a diff
  EXPECT_EQ(updated.account().email(), "updated-popug@example.com");
  accv1::AccountRoleChanged changed;
  ASSERT_TRUE(changed.ParseFromString(about[2].data));
  EXPECT_EQ(changed.account_id(), account.id());
  EXPECT_EQ(changed.old_role(), ::ates::common::v1::ROLE_WORKER);
  EXPECT_EQ(changed.new_role(), ::ates::common::v1::ROLE_MANAGER);
  EXPECT_EQ(changed.version(), 2);
  EXPECT_EQ(about[2].Header("Ates-Causation-Id"), about[1].Header("Nats-Msg-Id"));
  EXPECT_NE(about[1].Header("Nats-Msg-Id"), about[2].Header("Nats-Msg-Id"));

  // 2. A change without a role change: updated v3 only.
  authv1::UpdateAccountRequest rename;
  rename.set_account_id(account.id());
  rename.set_full_name("Renamed Popug");
  ASSERT_TRUE(auth_->Update(rename, &after).ok());
  EXPECT_EQ(after.version(), 3);
  // 3. The same values again: no new version, no event.
  ASSERT_TRUE(auth_->Update(rename, &after).ok());
  EXPECT_EQ(after.version(), 3);
  Barrier(*auth_);
  about = MessagesAbout(js_->Read("ACCOUNTS"), account.id());
  ASSERT_EQ(about.size(), 4u);
  EXPECT_EQ(about[3].subject, "accounts.account.updated");
  ASSERT_TRUE(updated.ParseFromString(about[3].data));
  EXPECT_EQ(updated.account().version(), 3);
  EXPECT_EQ(updated.account().full_name(), "Renamed Popug");
  EXPECT_EQ(updated.account().role(), ::ates::common::v1::ROLE_MANAGER);
}

TEST_F(AccountEventsTest, NatsDownCreateStillSucceedsAndEveryEventFollowsOnce) {
  // A daemon in the default mode (outbox rows deleted once acked).
  AuthEvents auth("auth_outage");
  ASSERT_TRUE(Eventually([&] { return auth.Unpublished() == 0; }))
      << "first admin's event not published";

  auto& stack = TestStack::Get();
  stack.StopNats();
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    authv1::Account a;
    auto s = auth.Create(NewAccountRequest("offline-" + std::to_string(i)), &a);
    ASSERT_TRUE(s.ok()) << "CreateAccount while NATS is down: " << Describe(s);
    ids.push_back(a.id());
  }
  // Committed with their events, which wait in the outbox.
  EXPECT_EQ(auth.Unpublished(), 4);
  EXPECT_EQ(QueryInt(auth.db_url, "SELECT count(*) FROM accounts WHERE login LIKE 'offline-%'"), 4);

  stack.StartNats();
  ASSERT_TRUE(js_->WaitConnected(20s));
  EXPECT_TRUE(Eventually([&] { return auth.Unpublished() == 0; }, 40s))
      << auth.Unpublished() << " events still unpublished after NATS came back";
  auto all = js_->Read("ACCOUNTS");
  for (const auto& id : ids) {
    auto about = MessagesAbout(all, id);
    ASSERT_EQ(about.size(), 1u) << "account " << id;
    EXPECT_EQ(about[0].subject, "accounts.account.created");
  }
  std::set<std::string> msg_ids;
  for (const auto& m : all) {
    EXPECT_TRUE(events::IsUuid(m.Header("Nats-Msg-Id"))) << "seq " << m.seq;
    EXPECT_TRUE(msg_ids.insert(m.Header("Nats-Msg-Id")).second)
        << "published twice: " << m.Header("Nats-Msg-Id") << " at seq " << m.seq;
  }
  // The daemon is still healthy and keeps publishing.
  authv1::Account after;
  ASSERT_TRUE(auth.Create(NewAccountRequest("online-again"), &after).ok());
  AwaitEvents(after.id(), 1);
  EXPECT_EQ(auth.Stop(), 0);
}

}  // namespace
}  // namespace ates::test
