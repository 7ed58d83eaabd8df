// Revocation on the auth side (issue 10, item 3; ADR 16), against the real
// ates-auth, NATS and atesctl: every change that must revoke an account's
// tokens bumps its version, which the reply's tokens carry as "ver", and emits
// accounts.account.updated with the full state; an admin cannot reset their
// own password nor change their own role or active flag.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "accounts.hpp"
#include "ates/platform/events.hpp"
#include "support/auth_helpers.hpp"
#include "support/auth_security_helpers.hpp"
#include "support/e2e_support.hpp"
#include "support/wait.hpp"

#ifndef ATESCTL_BIN
#error "ATESCTL_BIN must be defined by the build"
#endif

namespace ates::test {
namespace {

using ::ates::common::v1::ROLE_ADMIN;
using ::ates::common::v1::ROLE_WORKER;
using ::testing::HasSubstr;

class AuthRevocationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      db_url_ = new std::string(TestStack::Get().CreateDatabase("auth_revoke"));
      daemon_ = new Daemon(AuthDaemon("ates-auth", *db_url_));
      daemon_->Start();
      stub_ = authv1::AuthService::NewStub(daemon_->channel()).release();
      js_ = new JsClient(TestStack::Get().nats_url());
      admin_token_ = new std::string(TokenFor(kAdminLogin, kAdminPassword));
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete stub_;
    stub_ = nullptr;
    if (daemon_ != nullptr && daemon_->Running()) {
      EXPECT_EQ(daemon_->Stop(), 0);
    }
    delete daemon_;
    delete js_;
    daemon_ = nullptr;
    js_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static std::string TokenFor(const std::string& login, const std::string& password,
                              authv1::LoginResponse* out = nullptr) {
    Call c;
    authv1::LoginRequest req;
    req.set_login(login);
    req.set_password(password);
    authv1::LoginResponse resp;
    auto s = stub_->Login(&c.ctx, req, &resp);
    if (!s.ok()) throw std::runtime_error("login " + login + ": " + Describe(s));
    if (out) *out = resp;
    return resp.access_token();
  }

  static authv1::Account Create(const std::string& login, Role role = ROLE_WORKER) {
    Call c(*admin_token_);
    authv1::CreateAccountResponse resp;
    auto s = stub_->CreateAccount(&c.ctx, NewAccountRequest(login, role), &resp);
    if (!s.ok()) throw std::runtime_error("create " + login + ": " + Describe(s));
    return resp.account();
  }

  static grpc::Status Reset(const std::string& token, const std::string& id,
                            const std::string& login, const std::string& password,
                            authv1::ResetPasswordResponse* out = nullptr) {
    Call c(token);
    authv1::ResetPasswordRequest req;
    req.set_account_id(id);
    req.set_login(login);
    req.set_new_password(password);
    authv1::ResetPasswordResponse resp;
    auto s = stub_->ResetPassword(&c.ctx, req, &resp);
    if (out) *out = resp;
    return s;
  }

  static grpc::Status SetActive(const std::string& token, const std::string& id, bool active) {
    Call c(token);
    authv1::UpdateAccountRequest req;
    req.set_account_id(id);
    req.set_active(active);
    authv1::UpdateAccountResponse resp;
    return stub_->UpdateAccount(&c.ctx, req, &resp);
  }

  static int64_t Version(const std::string& id) {
    return QueryInt(*db_url_, "SELECT version FROM accounts WHERE id = $1", {pg::Text(id)});
  }

  // Waits for accounts.account.updated of `id` at `version` on ACCOUNTS; its state.
  static std::optional<accv1::AccountState> UpdatedEvent(const std::string& id, int64_t version) {
    std::optional<accv1::AccountState> found;
    Eventually([&] {
      for (const auto& m : MessagesAbout(js_->Read("ACCOUNTS"), id)) {
        accv1::AccountUpdated e;
        if (m.subject == "accounts.account.updated" && e.ParseFromString(m.data) &&
            e.account().version() == version) {
          found = e.account();
        }
      }
      return found.has_value();
    });
    return found;
  }

  static int64_t Ver(const std::string& token) {
    return std::stoll(TokenField(token, "ver", false));
  }

  static inline std::string* setup_error_ = nullptr;
  static inline std::string* db_url_ = nullptr;
  static inline Daemon* daemon_ = nullptr;
  static inline authv1::AuthService::Stub* stub_ = nullptr;
  static inline JsClient* js_ = nullptr;
  static inline std::string* admin_token_ = nullptr;
};

TEST_F(AuthRevocationTest, ChangePasswordBumpsTheVersionEmitsTheFullStateAndReturnsAFreshToken) {
  auto a = Create("changer-r");
  auto old_token = TokenFor("changer-r", "popug-pass-1");
  EXPECT_EQ(Ver(old_token), a.version());

  Call c(old_token);
  authv1::ChangePasswordRequest req;
  req.set_old_password("popug-pass-1");
  req.set_new_password("popug-pass-2");
  authv1::ChangePasswordResponse resp;
  auto s = stub_->ChangePassword(&c.ctx, req, &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);

  EXPECT_EQ(Version(a.id()), a.version() + 1);
  ASSERT_FALSE(resp.access_token().empty()) << "the caller gets a token of the new version";
  EXPECT_EQ(Ver(resp.access_token()), a.version() + 1);
  EXPECT_GT(resp.expires_at().seconds(), 0);
  auto state = UpdatedEvent(a.id(), a.version() + 1);
  ASSERT_TRUE(state) << "no accounts.account.updated at the new version";
  EXPECT_EQ(state->login(), "changer-r");
  EXPECT_EQ(state->email(), a.email());
  EXPECT_EQ(state->role(), ROLE_WORKER);
  EXPECT_TRUE(state->active());
}

TEST_F(AuthRevocationTest, AnAdminResetRevokesOlderTokensAndTheOldPassword) {
  auto a = Create("forgetful");
  TokenFor("forgetful", "popug-pass-1");
  authv1::ResetPasswordResponse resp;
  auto s = Reset(*admin_token_, "", "forgetful", "fresh-password-1", &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(resp.account().id(), a.id());
  EXPECT_EQ(resp.account().version(), a.version() + 1);
  EXPECT_EQ(Version(a.id()), a.version() + 1);
  ASSERT_TRUE(UpdatedEvent(a.id(), a.version() + 1));
  EXPECT_THROW(TokenFor("forgetful", "popug-pass-1"), std::runtime_error);
  EXPECT_EQ(Ver(TokenFor("forgetful", "fresh-password-1")), a.version() + 1);

  // By id as well.
  s = Reset(*admin_token_, a.id(), "", "fresh-password-2", &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(Version(a.id()), a.version() + 2);
}

TEST_F(AuthRevocationTest, ResetPasswordIsForAdminsOnAnotherAccountOnly) {
  auto worker = Create("reset-worker");
  auto worker_token = TokenFor("reset-worker", "popug-pass-1");
  auto admin_id = TokenField(*admin_token_, "sub", false);
  int64_t admin_version = Version(admin_id);

  auto by_worker = Reset(worker_token, "", kAdminLogin, "taken-over-1");
  EXPECT_EQ(by_worker.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(by_worker);
  auto own = Reset(*admin_token_, "", kAdminLogin, "taken-over-1");
  EXPECT_EQ(own.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(own);
  auto own_by_id = Reset(*admin_token_, admin_id, "", "taken-over-1");
  EXPECT_EQ(own_by_id.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(own_by_id);
  EXPECT_EQ(Version(admin_id), admin_version) << "nothing changed";
  EXPECT_NO_THROW(TokenFor(kAdminLogin, kAdminPassword));

  auto both = Reset(*admin_token_, worker.id(), "reset-worker", "whatever-123");
  EXPECT_EQ(both.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(both);
  auto weak = Reset(*admin_token_, "", "reset-worker", "short");
  EXPECT_EQ(weak.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(weak);
  EXPECT_THAT(BadRequestFields(weak), ::testing::Contains("new_password"));
  auto unknown = Reset(*admin_token_, "", "no-such-popug", "whatever-123");
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(unknown);
}

TEST_F(AuthRevocationTest, AnOldAdminTokenCannotReactivateItsOwnDeactivatedAccount) {
  auto second = Create("admin-two", ROLE_ADMIN);
  auto second_token = TokenFor("admin-two", "popug-pass-1");
  // Deactivation (by the other admin) bumps the version and says so.
  ASSERT_TRUE(SetActive(*admin_token_, second.id(), false).ok());
  EXPECT_EQ(Version(second.id()), second.version() + 1);
  auto state = UpdatedEvent(second.id(), second.version() + 1);
  ASSERT_TRUE(state);
  EXPECT_FALSE(state->active());

  auto restore = SetActive(second_token, second.id(), true);
  EXPECT_FALSE(restore.ok()) << "an old token restored its own account";
  EXPECT_EQ(QueryInt(*db_url_, "SELECT count(*) FROM accounts WHERE id = $1 AND NOT active",
                     {pg::Text(second.id())}),
            1);
  EXPECT_EQ(Version(second.id()), second.version() + 1);
}

TEST_F(AuthRevocationTest, AnAdminCannotChangeTheirOwnRoleOrActiveFlag) {
  auto third = Create("admin-three", ROLE_ADMIN);
  auto token = TokenFor("admin-three", "popug-pass-1");
  auto off = SetActive(token, third.id(), false);
  EXPECT_EQ(off.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(off);
  Call c(token);
  authv1::UpdateAccountRequest req;
  req.set_account_id(third.id());
  req.set_role(ROLE_WORKER);
  authv1::UpdateAccountResponse resp;
  auto demote = stub_->UpdateAccount(&c.ctx, req, &resp);
  EXPECT_EQ(demote.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(demote);
  EXPECT_EQ(Version(third.id()), third.version());
}

// The hook a token check in ates-auth itself uses: its own table, no replica.
TEST_F(AuthRevocationTest, StandingAnswersVersionActiveAndRoleFromTheAuthDatabase) {
  auto a = Create("standing");
  ASSERT_TRUE(SetActive(*admin_token_, a.id(), false).ok());
  pg::Pool pool(*db_url_, 1);
  auth::SigningKeyStore keys(pool, auth::KeySealer::FromBase64(kTestKeyEncryptionKey), {});
  auth::AccountService accounts(pool, {}, keys, [] {});
  auto standing = accounts.Standing(a.id());
  ASSERT_TRUE(standing);
  EXPECT_EQ(standing->version, a.version() + 1);
  EXPECT_FALSE(standing->active);
  EXPECT_EQ(standing->role, auth::Role::kWorker);
  EXPECT_FALSE(accounts.Standing(events::NewUuid())) << "an unknown account";
  EXPECT_FALSE(accounts.Standing("not-a-uuid"));
}

TEST_F(AuthRevocationTest, AtesctlResetsAPasswordByLoginAndRotatesKeys) {
  auto a = Create("cli-forgetful");
  std::string dir = TestStack::Get().dir() + "/auth-cli";
  std::filesystem::create_directories(dir);
  auto ctl = [&](std::vector<std::string> args, const std::string& in = "") {
    std::vector<std::string> argv = {ATESCTL_BIN, "--auth", daemon_->target(), "--token-file",
                                     dir + "/token"};
    for (auto& x : args) argv.push_back(std::move(x));
    return e2e::RunCli(argv, in, {{"HOME", dir}, {"NO_COLOR", "1"}});
  };
  auto login =
      ctl({"login", "--user", kAdminLogin, "--password-stdin"}, std::string(kAdminPassword) + "\n");
  ASSERT_EQ(login.exit_code, 0) << login.err;

  auto reset = ctl({"accounts", "reset-password", "cli-forgetful", "--password-stdin"},
                   "cli-new-password\n");
  ASSERT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_THAT(reset.out, HasSubstr("cli-forgetful"));
  EXPECT_THAT(reset.err, HasSubstr("older tokens no longer work"));
  EXPECT_EQ(Version(a.id()), a.version() + 1);
  EXPECT_NO_THROW(TokenFor("cli-forgetful", "cli-new-password"));

  auto rotate = ctl({"-o", "json", "keys", "rotate"});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.err;
  auto kid = QueryInt(*db_url_, "SELECT count(*) FROM signing_keys WHERE retired_at IS NULL");
  EXPECT_EQ(kid, 1);
  pg::Connection db(*db_url_);
  auto current = db.Exec("SELECT kid FROM signing_keys WHERE retired_at IS NULL").String(0, 0);
  EXPECT_THAT(rotate.out, HasSubstr(current));
  EXPECT_EQ(TokenField(TokenFor(kAdminLogin, kAdminPassword), "kid", true), current);
}

}  // namespace
}  // namespace ates::test
