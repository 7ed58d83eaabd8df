// ates.auth.v1.AuthService through the real ates-auth daemon over real gRPC,
// against a private PostgreSQL and nats-server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "ates/platform/events.hpp"
#include "ates/platform/page_token.hpp"
#include "ates/platform/token.hpp"
#include "grpc/health/v1/health.grpc.pb.h"
#include "key_sealer.hpp"
#include "support/auth_helpers.hpp"
#include "support/test_stack.hpp"
#include "support/token_forge.hpp"
#include "support/wait.hpp"

namespace ates::test {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Clock = std::chrono::system_clock;
using ServingStatus = grpc::health::v1::HealthCheckResponse;

class AuthApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      auto& stack = TestStack::Get();
      db_url_ = new std::string(stack.CreateDatabase("auth_api"));
      daemon_ = new Daemon(AuthDaemon("ates-auth", *db_url_));
      daemon_->Start();
      stub_ = authv1::AuthService::NewStub(daemon_->channel()).release();
      js_ = new JsClient(stack.nats_url());
      authv1::LoginResponse resp;
      auto s = Login(kAdminLogin, kAdminPassword, &resp);
      if (!s.ok()) throw std::runtime_error("admin login: " + Describe(s));
      admin_token_ = new std::string(resp.access_token());
      admin_id_ = new std::string(resp.account().id());
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }

  static void TearDownTestSuite() {
    // Close our connection first, or the daemon waits out its drain grace for it.
    delete stub_;
    if (daemon_ != nullptr && daemon_->Running()) {
      EXPECT_EQ(daemon_->Stop(), 0) << "ates-auth must exit 0 on SIGTERM";
    }
    delete js_;
    delete daemon_;
    stub_ = nullptr;
    js_ = nullptr;
    daemon_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  static grpc::Status Login(const std::string& login, const std::string& password,
                            authv1::LoginResponse* resp) {
    Call c;
    authv1::LoginRequest req;
    req.set_login(login);
    req.set_password(password);
    return stub_->Login(&c.ctx, req, resp);
  }

  static std::string TokenFor(const std::string& login, const std::string& password) {
    authv1::LoginResponse resp;
    auto s = Login(login, password, &resp);
    EXPECT_TRUE(s.ok()) << login << ": " << Describe(s);
    return resp.access_token();
  }

  // Creates an account as admin; fails the test when that does not work.
  static authv1::Account CreateAccount(const authv1::CreateAccountRequest& req) {
    Call c(*admin_token_);
    authv1::CreateAccountResponse resp;
    auto s = stub_->CreateAccount(&c.ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << req.login() << ": " << Describe(s);
    return resp.account();
  }

  static grpc::Status ListAccounts(const std::string& token, int page_size = 0,
                                   const std::string& page_token = "",
                                   authv1::ListAccountsResponse* out = nullptr) {
    Call c(token);
    authv1::ListAccountsRequest req;
    req.set_page_size(page_size);
    req.set_page_token(page_token);
    authv1::ListAccountsResponse resp;
    auto s = stub_->ListAccounts(&c.ctx, req, &resp);
    if (out) *out = resp;
    return s;
  }

  static int64_t AccountCount() { return QueryInt(*db_url_, "SELECT count(*) FROM accounts"); }

  // Waits until every committed event is published (the relay deletes outbox
  // rows only after the JetStream ack), then returns the stream's last sequence.
  static uint64_t Quiesce() {
    bool drained =
        Eventually([] { return QueryInt(*db_url_, "SELECT count(*) FROM outbox") == 0; }, 20s);
    EXPECT_TRUE(drained) << "outbox not drained";
    return js_->LastSeq("ACCOUNTS");
  }

  // The events published after `from_seq` and before a fresh marker account's
  // own event. Since the relay publishes in commit order, an event written by
  // anything before the marker is in this list.
  static std::vector<StreamMessage> EventsBeforeMarker(uint64_t from_seq) {
    static int counter = 0;
    auto marker = CreateAccount(NewAccountRequest("marker-" + std::to_string(++counter)));
    std::vector<StreamMessage> all;
    bool seen = Eventually([&] {
      all = js_->Read("ACCOUNTS", from_seq + 1);
      return !MessagesAbout(all, marker.id()).empty();
    });
    EXPECT_TRUE(seen) << "marker event never published";
    std::vector<StreamMessage> before;
    for (const auto& m : all) {
      if (AccountIdOf(m) == marker.id()) break;
      before.push_back(m);
    }
    return before;
  }

  // The current signing key, read from ates-auth's own database, so tests can
  // mint tokens that differ from a valid one in exactly one way.
  static auth::SigningKey RealKey() {
    pg::Connection c(*db_url_);
    auto r = c.Exec(
        "SELECT kid, secret, secret_nonce FROM signing_keys WHERE retired_at IS NULL"
        " ORDER BY created_at DESC LIMIT 1");
    if (r.Rows() != 1) throw std::runtime_error("no signing key in the database");
    // Sealed at rest (ADR 16): opened with the key the test gave ates-auth.
    auto sealer = auth::KeySealer::FromBase64(kTestKeyEncryptionKey);
    return KeyFromSecret(r.String(0, 0),
                         sealer.Open({r.Bytes(0, 1), r.Bytes(0, 2)}, r.String(0, 0)));
  }

  static std::string KidOf(const std::string& token) {
    auto header = auth::Base64UrlDecode(token.substr(0, token.find('.')));
    if (!header) return "";
    auto pos = header->find(R"("kid":")");
    if (pos == std::string::npos) return "";
    pos += 7;
    return header->substr(pos, header->find('"', pos) - pos);
  }

  static inline std::string* setup_error_ = nullptr;
  static inline std::string* db_url_ = nullptr;
  static inline Daemon* daemon_ = nullptr;
  static inline authv1::AuthService::Stub* stub_ = nullptr;
  static inline JsClient* js_ = nullptr;
  static inline std::string* admin_token_ = nullptr;
  static inline std::string* admin_id_ = nullptr;
};

// ---- health and keys --------------------------------------------------------

TEST_F(AuthApiTest, HealthServesOverallLivenessAndReadiness) {
  EXPECT_EQ(daemon_->HealthStatus(""), ServingStatus::SERVING);
  EXPECT_EQ(daemon_->HealthStatus("liveness"), ServingStatus::SERVING);
  EXPECT_EQ(daemon_->HealthStatus("readiness"), ServingStatus::SERVING);
  EXPECT_EQ(daemon_->HealthStatus("ates.auth.v1.AuthService"), ServingStatus::SERVING);
  EXPECT_EQ(daemon_->HealthStatus("no.such.Service"), -1);  // NOT_FOUND
}

TEST_F(AuthApiTest, GetPublicKeysNeedsNoTokenAndVerifiesIssuedTokens) {
  Call c;  // no token
  authv1::GetPublicKeysResponse resp;
  auto s = stub_->GetPublicKeys(&c.ctx, authv1::GetPublicKeysRequest(), &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_GE(resp.keys_size(), 1);
  EXPECT_EQ(resp.issuer(), "ates-auth");
  EXPECT_EQ(resp.audience(), "ates");
  std::map<std::string, std::array<unsigned char, 32>> keys;
  for (const auto& k : resp.keys()) {
    EXPECT_EQ(k.algorithm(), "EdDSA");
    ASSERT_EQ(k.public_key().size(), 32u) << k.kid();
    std::array<unsigned char, 32> raw;
    std::memcpy(raw.data(), k.public_key().data(), 32);
    keys[k.kid()] = raw;
  }
  EXPECT_TRUE(keys.count(KidOf(*admin_token_))) << "token kid " << KidOf(*admin_token_);
  // Another service verifies tokens with these keys alone.
  auth::TokenVerifier verifier(resp.issuer(), resp.audience());
  verifier.SetKeys(keys);
  auto principal = verifier.Verify(*admin_token_);
  EXPECT_EQ(principal.account_id, *admin_id_);
  EXPECT_EQ(principal.role, auth::Role::kAdmin);
}

TEST_F(AuthApiTest, LoginReturnsTokenExpiryAndAccount) {
  authv1::LoginResponse resp;
  auto s = Login(kAdminLogin, kAdminPassword, &resp);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(resp.account().login(), kAdminLogin);
  EXPECT_EQ(resp.account().role(), ::ates::common::v1::ROLE_ADMIN);
  EXPECT_TRUE(events::IsUuid(resp.account().id()));
  auto now =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
  EXPECT_GT(resp.expires_at().seconds(), now + 3000);  // token_ttl 1h
  EXPECT_LE(resp.expires_at().seconds(), now + 3700);
  EXPECT_EQ(std::count(resp.access_token().begin(), resp.access_token().end(), '.'), 2);
}

// ---- authentication ---------------------------------------------------------

TEST_F(AuthApiTest, BadTokensAreUnauthenticated) {
  auto real = RealKey();
  ASSERT_EQ(real.kid, KidOf(*admin_token_));
  // Claim "ver" at least the account's version: older tokens are revoked (ADR 0017).
  constexpr int64_t kVer = 1000000;
  auto valid_claims = ClaimsJson("ates-auth", "ates", *admin_id_, "admin", Clock::now() + 1h, kVer);
  // Control: a hand-made token with the real key and valid claims is accepted,
  // so each rejection below is caused by its one defect.
  auto control = MintToken(EdDsaHeader(real.kid), valid_claims, &real);
  ASSERT_TRUE(ListAccounts(control).ok()) << Describe(ListAccounts(control));

  auto forged_key = auth::SigningKey::Generate(real.kid);  // same kid, other key
  auto unknown_key = auth::SigningKey::Generate("k-unknown-kid");
  std::vector<std::pair<std::string, std::string>> cases = {
      {"malformed", "not-a-jwt"},
      {"three garbage parts", "abc.def.ghi"},
      {"forged signature", MintToken(EdDsaHeader(real.kid), valid_claims, &forged_key)},
      {"expired",
       MintToken(EdDsaHeader(real.kid),
                 ClaimsJson("ates-auth", "ates", *admin_id_, "admin", Clock::now() - 10s, kVer),
                 &real)},
      {"alg none", MintToken(R"({"alg":"none","typ":"JWT","kid":")" + real.kid + R"("})",
                             valid_claims, nullptr)},
      {"alg none, signed",
       MintToken(R"({"alg":"none","typ":"JWT","kid":")" + real.kid + R"("})", valid_claims, &real)},
      {"unknown kid", MintToken(EdDsaHeader(unknown_key.kid), valid_claims, &unknown_key)},
      {"wrong audience",
       MintToken(EdDsaHeader(real.kid),
                 ClaimsJson("ates-auth", "other", *admin_id_, "admin", Clock::now() + 1h, kVer),
                 &real)},
      {"wrong issuer",
       MintToken(EdDsaHeader(real.kid),
                 ClaimsJson("someone", "ates", *admin_id_, "admin", Clock::now() + 1h, kVer),
                 &real)},
  };
  for (const auto& [what, token] : cases) {
    authv1::ListAccountsResponse resp;
    auto s = ListAccounts(token, 0, "", &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << what << ": " << Describe(s);
    EXPECT_EQ(resp.accounts_size(), 0) << what;
  }
}

TEST_F(AuthApiTest, MissingOrNonBearerAuthorizationIsUnauthenticated) {
  {
    authv1::ListAccountsResponse resp;
    auto s = ListAccounts("");
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(Clock::now() + 10s);
    ctx.AddMetadata("authorization", "Basic " + *admin_token_);
    authv1::ListAccountsResponse resp;
    auto s = stub_->ListAccounts(&ctx, authv1::ListAccountsRequest(), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  }
  {
    Call c;  // GetAccount and ChangePassword need a token too
    authv1::GetAccountResponse resp;
    auto s = stub_->GetAccount(&c.ctx, authv1::GetAccountRequest(), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
    EXPECT_FALSE(resp.has_account());
  }
  {
    Call c;
    authv1::ChangePasswordRequest req;
    req.set_old_password(kAdminPassword);
    req.set_new_password("whatever-123");
    authv1::ChangePasswordResponse resp;
    auto s = stub_->ChangePassword(&c.ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  }
  {
    int64_t before = AccountCount();
    Call c;
    authv1::CreateAccountResponse resp;
    auto s = stub_->CreateAccount(&c.ctx, NewAccountRequest("anonymous-made"), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
    EXPECT_EQ(AccountCount(), before);
  }
}

// ---- authorization ----------------------------------------------------------

TEST_F(AuthApiTest, WorkerIsDeniedAdminRpcsAndOtherAccounts) {
  auto worker = CreateAccount(NewAccountRequest("worker-perm"));
  auto token = TokenFor("worker-perm", "popug-pass-1");
  int64_t before = AccountCount();
  {
    Call c(token);
    authv1::CreateAccountResponse resp;
    auto s = stub_->CreateAccount(&c.ctx, NewAccountRequest("made-by-worker"), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
  }
  EXPECT_EQ(AccountCount(), before);
  {
    authv1::ListAccountsResponse resp;
    auto s = ListAccounts(token, 0, "", &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
    EXPECT_EQ(resp.accounts_size(), 0);
  }
  {
    Call c(token);
    authv1::UpdateAccountRequest req;  // promoting oneself
    req.set_account_id(worker.id());
    req.set_role(::ates::common::v1::ROLE_ADMIN);
    authv1::UpdateAccountResponse resp;
    auto s = stub_->UpdateAccount(&c.ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
  }
  {
    Call c(token);
    authv1::GetAccountRequest req;
    req.set_account_id(*admin_id_);
    authv1::GetAccountResponse resp;
    auto s = stub_->GetAccount(&c.ctx, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
    EXPECT_FALSE(resp.has_account()) << "no data with a denial";
  }
  {
    Call c(token);
    authv1::GetAccountRequest req;
    req.set_account_id(worker.id());
    authv1::GetAccountResponse resp;
    auto s = stub_->GetAccount(&c.ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(resp.account().login(), "worker-perm");
    EXPECT_EQ(resp.account().role(), ::ates::common::v1::ROLE_WORKER);
  }
  {
    Call c(token);  // empty id = self
    authv1::GetAccountResponse resp;
    auto s = stub_->GetAccount(&c.ctx, authv1::GetAccountRequest(), &resp);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_EQ(resp.account().id(), worker.id());
  }
  pg::Connection db(*db_url_);
  auto role = db.Exec("SELECT role FROM accounts WHERE id = $1", {pg::Text(worker.id())});
  EXPECT_EQ(role.String(0, 0), "worker");
}

TEST_F(AuthApiTest, OnlyAdminsManageAccounts) {
  auto real = RealKey();
  for (const char* role : {"manager", "accountant", "worker"}) {
    auto token = MintToken(
        EdDsaHeader(real.kid),
        ClaimsJson("ates-auth", "ates", events::NewUuid(), role, Clock::now() + 1h), &real);
    Call c(token);
    authv1::CreateAccountResponse resp;
    auto s = stub_->CreateAccount(&c.ctx, NewAccountRequest("made-by-" + std::string(role)), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << role << ": " << Describe(s);
    EXPECT_EQ(ListAccounts(token).error_code(), grpc::StatusCode::PERMISSION_DENIED) << role;
  }
  Call c(*admin_token_);
  authv1::GetAccountRequest req;
  req.set_account_id(*admin_id_);
  authv1::GetAccountResponse resp;
  EXPECT_TRUE(stub_->GetAccount(&c.ctx, req, &resp).ok());
}

// ---- input validation: INVALID_ARGUMENT naming the field, nothing written ----

TEST_F(AuthApiTest, BadCreateAccountInputIsRejectedNamingTheFieldAndWritesNothing) {
  struct Case {
    std::string what;
    std::string field;
    authv1::CreateAccountRequest req;
  };
  std::vector<Case> cases;
  auto add = [&](std::string what, std::string field, auto mutate) {
    auto req = NewAccountRequest("valid-login");
    mutate(req);
    cases.push_back({std::move(what), std::move(field), req});
  };
  add("empty login", "login", [](auto& r) { r.set_login(""); });
  add("upper-case login", "login", [](auto& r) { r.set_login("Popug"); });
  add("oversized login", "login", [](auto& r) { r.set_login(std::string(10 * 1024, 'a')); });
  add("bad e-mail", "email", [](auto& r) { r.set_email("not-an-email"); });
  add("empty e-mail", "email", [](auto& r) { r.set_email(""); });
  add("unspecified role", "role",
      [](auto& r) { r.set_role(::ates::common::v1::ROLE_UNSPECIFIED); });
  add("out-of-range role", "role", [](auto& r) { r.set_role(static_cast<Role>(99)); });
  add("oversized full_name", "full_name",
      [](auto& r) { r.set_full_name(std::string(10 * 1024, 'x')); });
  add("empty full_name", "full_name", [](auto& r) { r.set_full_name(""); });
  add("short password", "password", [](auto& r) { r.set_password("short"); });

  uint64_t from = Quiesce();
  int64_t before = AccountCount();
  for (const auto& c : cases) {
    Call call(*admin_token_);
    authv1::CreateAccountResponse resp;
    auto s = stub_->CreateAccount(&call.ctx, c.req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what << ": " << Describe(s);
    EXPECT_THAT(s.error_message(), HasSubstr(c.field)) << c.what;
    EXPECT_THAT(BadRequestFields(s), Contains(c.field)) << c.what;
    EXPECT_FALSE(resp.has_account()) << c.what;
  }
  EXPECT_EQ(AccountCount(), before);
  EXPECT_THAT(EventsBeforeMarker(from), IsEmpty()) << "a rejected request published an event";
}

TEST_F(AuthApiTest, BadUpdateInputIsRejectedNamingTheFieldAndChangesNothing) {
  auto target = CreateAccount(NewAccountRequest("update-target"));
  struct Case {
    std::string what;
    std::string field;
    authv1::UpdateAccountRequest req;
  };
  std::vector<Case> cases;
  auto add = [&](std::string what, std::string field, auto mutate) {
    authv1::UpdateAccountRequest req;
    req.set_account_id(target.id());
    mutate(req);
    cases.push_back({std::move(what), std::move(field), req});
  };
  add("bad e-mail", "email", [](auto& r) { r.set_email("nope@"); });
  add("unspecified role", "role",
      [](auto& r) { r.set_role(::ates::common::v1::ROLE_UNSPECIFIED); });
  add("out-of-range role", "role", [](auto& r) { r.set_role(static_cast<Role>(42)); });
  add("oversized full_name", "full_name",
      [](auto& r) { r.set_full_name(std::string(10 * 1024, 'y')); });
  add("not a uuid", "account_id", [](auto& r) {
    r.set_account_id("42");
    r.set_active(false);
  });
  add("nothing to change", "account_id", [](auto&) {});
  // A valid field next to a bad one must not be applied either.
  add("bad role next to a good e-mail", "role", [](auto& r) {
    r.set_email("changed@example.com");
    r.set_role(::ates::common::v1::ROLE_UNSPECIFIED);
  });

  uint64_t from = Quiesce();
  for (const auto& c : cases) {
    Call call(*admin_token_);
    authv1::UpdateAccountResponse resp;
    auto s = stub_->UpdateAccount(&call.ctx, c.req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.what << ": " << Describe(s);
    EXPECT_THAT(s.error_message(), HasSubstr(c.field)) << c.what;
    EXPECT_THAT(BadRequestFields(s), Contains(c.field)) << c.what;
  }
  pg::Connection db(*db_url_);
  auto row = db.Exec("SELECT version, email, role, full_name FROM accounts WHERE id = $1",
                     {pg::Text(target.id())});
  ASSERT_EQ(row.Rows(), 1);
  EXPECT_EQ(row.Int(0, 0), 1);
  EXPECT_EQ(row.String(0, 1), "update-target@example.com");
  EXPECT_EQ(row.String(0, 2), "worker");
  EXPECT_EQ(row.String(0, 3), "Popug update-target");
  EXPECT_THAT(EventsBeforeMarker(from), IsEmpty()) << "a rejected update published an event";
}

TEST_F(AuthApiTest, UnknownAccountIsNotFound) {
  Call c(*admin_token_);
  authv1::UpdateAccountRequest req;
  req.set_account_id(events::NewUuid());
  req.set_active(false);
  authv1::UpdateAccountResponse resp;
  auto s = stub_->UpdateAccount(&c.ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);

  Call c2(*admin_token_);
  authv1::GetAccountRequest get;
  get.set_account_id(events::NewUuid());
  authv1::GetAccountResponse got;
  EXPECT_EQ(stub_->GetAccount(&c2.ctx, get, &got).error_code(), grpc::StatusCode::NOT_FOUND);

  Call c3(*admin_token_);
  get.set_account_id("not-a-uuid");
  auto s3 = stub_->GetAccount(&c3.ctx, get, &got);
  EXPECT_EQ(s3.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s3);
  EXPECT_THAT(BadRequestFields(s3), Contains("account_id"));
}

TEST_F(AuthApiTest, DuplicateLoginIsAlreadyExistsAndWritesNothing) {
  CreateAccount(NewAccountRequest("dup-login"));
  uint64_t from = Quiesce();
  int64_t before = AccountCount();
  Call c(*admin_token_);
  authv1::CreateAccountResponse resp;
  auto req = NewAccountRequest("dup-login", ::ates::common::v1::ROLE_MANAGER);
  req.set_email("other@example.com");
  auto s = stub_->CreateAccount(&c.ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("dup-login"));
  EXPECT_EQ(AccountCount(), before);
  EXPECT_THAT(EventsBeforeMarker(from), IsEmpty());
}

// ---- credentials ------------------------------------------------------------

TEST_F(AuthApiTest, LoginIsThrottledAfterFiveFailuresWithTheSameAnswerForUnknownLogins) {
  CreateAccount(NewAccountRequest("throttled", ::ates::common::v1::ROLE_WORKER, "right-password"));
  authv1::LoginResponse resp;
  auto unknown = Login("no-such-popug", "right-password", &resp);
  ASSERT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(unknown);
  for (int i = 1; i <= 5; ++i) {
    auto wrong = Login("throttled", "wrong-password-" + std::to_string(i), &resp);
    EXPECT_EQ(wrong.error_code(), unknown.error_code()) << "attempt " << i;
    EXPECT_EQ(wrong.error_message(), unknown.error_message()) << "attempt " << i;
    EXPECT_TRUE(resp.access_token().empty());
  }
  auto refused = Login("throttled", "right-password", &resp);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(refused);
  EXPECT_TRUE(resp.access_token().empty()) << "a throttled login must not get a token";

  // Unknown logins are throttled the same way: no way to tell them apart.
  for (int i = 2; i <= 5; ++i) {
    auto s = Login("no-such-popug", "x-password-" + std::to_string(i), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << i;
  }
  auto unknown_refused = Login("no-such-popug", "right-password", &resp);
  EXPECT_EQ(unknown_refused.error_code(), refused.error_code());
  EXPECT_EQ(unknown_refused.error_message(), refused.error_message());

  // Per login: others are not affected.
  EXPECT_TRUE(Login(kAdminLogin, kAdminPassword, &resp).ok());
}

TEST_F(AuthApiTest, ChangePasswordRequiresTheOldPassword) {
  CreateAccount(
      NewAccountRequest("changer", ::ates::common::v1::ROLE_ACCOUNTANT, "first-password"));
  auto token = TokenFor("changer", "first-password");
  auto change = [&](const std::string& old_pw, const std::string& new_pw) {
    Call c(token);
    authv1::ChangePasswordRequest req;
    req.set_old_password(old_pw);
    req.set_new_password(new_pw);
    authv1::ChangePasswordResponse resp;
    return stub_->ChangePassword(&c.ctx, req, &resp);
  };
  authv1::LoginResponse resp;

  auto wrong = change("not-the-password", "second-password");
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(wrong);
  auto missing = change("", "second-password");
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(missing);
  EXPECT_THAT(BadRequestFields(missing), Contains("old_password"));
  auto too_short = change("first-password", "short");
  EXPECT_EQ(too_short.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(too_short);
  EXPECT_THAT(BadRequestFields(too_short), Contains("new_password"));
  EXPECT_TRUE(Login("changer", "first-password", &resp).ok()) << "unchanged so far";

  auto ok = change("first-password", "second-password");
  ASSERT_TRUE(ok.ok()) << Describe(ok);
  EXPECT_EQ(Login("changer", "first-password", &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto fresh = Login("changer", "second-password", &resp);
  EXPECT_TRUE(fresh.ok()) << Describe(fresh);
}

TEST_F(AuthApiTest, DeactivatedAccountCannotLogIn) {
  auto a = CreateAccount(NewAccountRequest("leaver"));
  authv1::LoginResponse resp;
  ASSERT_TRUE(Login("leaver", "popug-pass-1", &resp).ok());
  Call c(*admin_token_);
  authv1::UpdateAccountRequest req;
  req.set_account_id(a.id());
  req.set_active(false);
  authv1::UpdateAccountResponse updated;
  ASSERT_TRUE(stub_->UpdateAccount(&c.ctx, req, &updated).ok());
  EXPECT_FALSE(updated.account().active());
  auto s = Login("leaver", "popug-pass-1", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
}

// ---- listing ----------------------------------------------------------------

TEST_F(AuthApiTest, ListAccountsPagesThroughEveryAccountOnce) {
  for (int i = AccountCount(); i < 5; ++i) {
    CreateAccount(NewAccountRequest("pager-" + std::to_string(i)));
  }
  pg::Connection db(*db_url_);
  auto r = db.Exec("SELECT id FROM accounts ORDER BY id");
  std::vector<std::string> expected;
  for (int i = 0; i < r.Rows(); ++i) expected.push_back(r.String(i, 0));
  ASSERT_GE(expected.size(), 5u);

  std::vector<std::string> seen;
  std::string page_token;
  int pages = 0;
  do {
    authv1::ListAccountsResponse resp;
    auto s = ListAccounts(*admin_token_, 2, page_token, &resp);
    ASSERT_TRUE(s.ok()) << Describe(s);
    EXPECT_LE(resp.accounts_size(), 2);
    for (const auto& a : resp.accounts()) seen.push_back(a.id());
    page_token = resp.next_page_token();
    ASSERT_LT(++pages, 1000) << "pagination does not end";
  } while (!page_token.empty());
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(pages, static_cast<int>((expected.size() + 1) / 2));

  authv1::ListAccountsResponse all;
  ASSERT_TRUE(ListAccounts(*admin_token_, 0, "", &all).ok());  // 0 = default page of 100
  EXPECT_EQ(all.accounts_size(), static_cast<int>(expected.size()));
  EXPECT_TRUE(all.next_page_token().empty());

  authv1::ListAccountsResponse capped;  // AIP-158: above 500 is capped, not refused
  auto too_big = ListAccounts(*admin_token_, 501, "", &capped);
  EXPECT_TRUE(too_big.ok()) << Describe(too_big);
  EXPECT_EQ(capped.accounts_size(), static_cast<int>(expected.size()));
  auto negative = ListAccounts(*admin_token_, -1);
  EXPECT_EQ(negative.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadRequestFields(negative), Contains("page_size"));
  auto bad_token = ListAccounts(*admin_token_, 2, "garbage");
  EXPECT_EQ(bad_token.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadRequestFields(bad_token), Contains("page_token"));
  // A bare account id was the old token; a token minted for another method's filter is refused too.
  auto bare_id = ListAccounts(*admin_token_, 2, expected.front());
  EXPECT_THAT(BadRequestFields(bare_id), Contains("page_token"));
  auto foreign =
      ListAccounts(*admin_token_, 2,
                   platform::EncodePageToken(expected.front(), platform::PageFilter("ListTasks")));
  EXPECT_EQ(foreign.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadRequestFields(foreign), Contains("page_token"));
}

// ---- process life cycle -----------------------------------------------------

TEST_F(AuthApiTest, SigtermStopsTheDaemonWithExitCodeZero) {
  Daemon second(AuthDaemon("ates-auth-second", *db_url_));
  second.Start();
  authv1::LoginResponse resp;
  {
    auto stub = authv1::AuthService::NewStub(second.channel());
    Call c;
    authv1::LoginRequest req;
    req.set_login(kAdminLogin);
    req.set_password(kAdminPassword);
    ASSERT_TRUE(stub->Login(&c.ctx, req, &resp).ok());
  }
  EXPECT_EQ(second.Stop(), 0);
  EXPECT_THAT(second.Log(), HasSubstr("stopped"));
}

class AuthConfigTest : public ::testing::Test {
 protected:
  // Runs ates-auth with a config file of `yaml` and returns its exit code.
  static int RunWithConfig(const std::string& yaml, const std::map<std::string, std::string>& env,
                           std::string* log) {
    auto& stack = TestStack::Get();
    std::string path = stack.LogPath("config") + ".yaml";
    std::ofstream(path) << yaml;
    auto options = AuthDaemon("ates-auth-config", stack.DatabaseUrl("postgres"), env);
    options.config = path;
    Daemon d(options);
    d.Spawn();
    auto code = d.WaitExit(20s);
    *log = d.Log();
    return code.value_or(-1);
  }

  static std::string DefaultYaml() { return ReadFile(SourcePath("config/ates-auth.yaml")); }
};

TEST_F(AuthConfigTest, UnknownKeyExitsTwoNamingTheKey) {
  std::string log;
  EXPECT_EQ(RunWithConfig(DefaultYaml() + "\nbogus_section:\n  typo_key: 1\n", {}, &log), 2);
  EXPECT_THAT(log, HasSubstr("bogus_section.typo_key"));
}

TEST_F(AuthConfigTest, MissingValueExitsTwoNamingTheKey) {
  std::string yaml = DefaultYaml();
  auto pos = yaml.find("  token_ttl:");
  ASSERT_NE(pos, std::string::npos);
  yaml.erase(pos, yaml.find('\n', pos) - pos + 1);
  std::string log;
  EXPECT_EQ(RunWithConfig(yaml, {}, &log), 2);
  EXPECT_THAT(log, HasSubstr("auth.token_ttl"));
  EXPECT_THAT(log, HasSubstr("ATES_AUTH_TOKEN_TTL"));
}

TEST_F(AuthConfigTest, MalformedEnvironmentOverrideExitsTwoNamingTheKey) {
  std::string log;
  EXPECT_EQ(RunWithConfig(DefaultYaml(), {{"ATES_OUTBOX_POLL_INTERVAL", "soon"}}, &log), 2);
  EXPECT_THAT(log, HasSubstr("outbox.poll_interval"));
}

}  // namespace
}  // namespace ates::test
