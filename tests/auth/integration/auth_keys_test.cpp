// Signing keys (issue 10, item 7; ADR 16) with the real ates-auth and
// ates-tasks: sealed at rest, plaintext keys of older versions sealed at
// start, a wrong or missing key-encryption key refused at start, rotation
// with an overlap window, retired keys no longer published after it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/auth_security_helpers.hpp"
#include "support/tasks_helpers.hpp"
#include "support/wait.hpp"

namespace ates::test {
namespace {

using ::testing::Contains;
using ::testing::Not;

std::vector<std::string> PublishedKids(authv1::AuthService::Stub& stub) {
  Call c;
  authv1::GetPublicKeysResponse resp;
  auto s = stub.GetPublicKeys(&c.ctx, authv1::GetPublicKeysRequest(), &resp);
  EXPECT_TRUE(s.ok()) << Describe(s);
  std::vector<std::string> kids;
  for (const auto& k : resp.keys()) kids.push_back(k.kid());
  return kids;
}

grpc::Status ListTasksAs(TasksEnv& env, const std::string& token) {
  Call c(token);
  tasksv1::ListTasksResponse resp;
  return env.stub->ListTasks(&c.ctx, tasksv1::ListTasksRequest(), &resp);
}

authv1::RotateSigningKeyResponse Rotate(authv1::AuthService::Stub& stub, const std::string& token) {
  Call c(token);
  authv1::RotateSigningKeyResponse resp;
  auto s = stub.RotateSigningKey(&c.ctx, authv1::RotateSigningKeyRequest(), &resp);
  EXPECT_TRUE(s.ok()) << Describe(s);
  return resp;
}

TEST(AuthKeysTest, KeysAreSealedAtRestAndPlaintextKeysOfOlderVersionsAreSealedAtStart) {
  auto db = TestStack::Get().CreateDatabase("keys_seal");
  {
    Daemon auth(AuthDaemon("ates-auth", db));
    auth.Start();
    ASSERT_EQ(auth.Stop(), 0);
  }
  // Every stored key is sealed: 64 secret bytes + 16 tag bytes, a 24-byte nonce.
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM signing_keys WHERE secret_nonce IS NULL"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT min(length(secret)) FROM signing_keys"), 80);

  // A key as an older ates-auth stored it, in plaintext, newest so it signs.
  auto legacy = auth::SigningKey::Generate("legacy-plain");
  std::string secret(reinterpret_cast<const char*>(legacy.secret.data()), 64);
  {
    pg::Connection c(db);
    c.Exec(
        "INSERT INTO signing_keys (kid, secret, public_key, created_at)"
        " VALUES ($1, $2, $3, now() + interval '1 second')",
        {pg::Text(legacy.kid), pg::Bytes(secret),
         pg::Bytes(std::string(reinterpret_cast<const char*>(legacy.public_key.data()), 32))});
  }
  Daemon auth(AuthDaemon("ates-auth", db));
  auth.Start();
  pg::Connection c(db);
  auto row = c.Exec("SELECT secret, secret_nonce IS NOT NULL FROM signing_keys WHERE kid = $1",
                    {pg::Text(legacy.kid)});
  ASSERT_EQ(row.Rows(), 1);
  EXPECT_TRUE(row.Bool(0, 1)) << "the plaintext key was not sealed at start";
  EXPECT_EQ(row.Bytes(0, 0).find(secret.substr(0, 32)), std::string::npos);

  // It still signs, and its tokens verify with its public key.
  auto stub = authv1::AuthService::NewStub(auth.channel());
  Call call;
  authv1::LoginRequest req;
  req.set_login(kAdminLogin);
  req.set_password(kAdminPassword);
  authv1::LoginResponse resp;
  ASSERT_TRUE(stub->Login(&call.ctx, req, &resp).ok());
  EXPECT_EQ(TokenField(resp.access_token(), "kid", true), legacy.kid);
  auth::TokenVerifier verifier("ates-auth", "ates");
  verifier.SetKeys({{legacy.kid, legacy.public_key}});
  EXPECT_NO_THROW(verifier.Verify(resp.access_token()));
  stub.reset();
  EXPECT_EQ(auth.Stop(), 0);
}

TEST(AuthKeysTest, AMissingOrWrongKeyEncryptionKeyStopsAuthAtStartWithExitCode2) {
  auto db = TestStack::Get().CreateDatabase("keys_kek");
  {
    Daemon auth(AuthDaemon("ates-auth", db));
    auth.Start();
    ASSERT_EQ(auth.Stop(), 0);
  }
  Daemon missing(AuthDaemon("ates-auth", db, {{"ATES_AUTH_KEY_ENCRYPTION_KEY", ""}}));
  missing.Spawn();
  EXPECT_EQ(missing.WaitExit(std::chrono::seconds(20)), 2) << missing.Log();
  EXPECT_THAT(missing.Log(), ::testing::HasSubstr("key_encryption_key"));

  Daemon wrong(AuthDaemon(
      "ates-auth", db,
      {{"ATES_AUTH_KEY_ENCRYPTION_KEY", "YmVuY2gta2V5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGU="}}));
  wrong.Spawn();
  EXPECT_EQ(wrong.WaitExit(std::chrono::seconds(30)), 2) << wrong.Log();
  EXPECT_THAT(wrong.Log(), ::testing::HasSubstr("does not open"));
}

TEST(AuthKeysTest, ATokenSignedBeforeARotationStillWorksAtTasksAndNewTokensCarryTheNewKid) {
  TasksEnv env("keys_rotate");
  auto before = env.admin.token;
  std::string old_kid = TokenField(before, "kid", true);
  ASSERT_TRUE(ListTasksAs(env, before).ok());

  // Only an admin rotates.
  auto worker = env.NewAccount("keys-worker", ::ates::common::v1::ROLE_WORKER);
  {
    Call c(worker.token);
    authv1::RotateSigningKeyResponse resp;
    auto s = env.auth_stub->RotateSigningKey(&c.ctx, authv1::RotateSigningKeyRequest(), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << Describe(s);
  }

  auto rotation = Rotate(*env.auth_stub, before);
  ASSERT_FALSE(rotation.kid().empty());
  EXPECT_NE(rotation.kid(), old_kid);
  EXPECT_THAT(rotation.retired_kids(), Contains(old_kid));
  EXPECT_GT(rotation.retired_until().seconds(), rotation.created_at().seconds() + 3000)
      << "the overlap is at least the token lifetime (1 h)";
  EXPECT_THAT(PublishedKids(*env.auth_stub), Contains(old_kid)) << "retired keys verify a while";

  // The old token keeps working at ates-tasks during the overlap.
  auto old_still = ListTasksAs(env, before);
  EXPECT_TRUE(old_still.ok()) << Describe(old_still);
  // A new token carries the new kid and works at ates-tasks too (which
  // fetches the key it does not know yet).
  authv1::LoginResponse fresh;
  ASSERT_TRUE(env.Login(kAdminLogin, kAdminPassword, &fresh).ok());
  EXPECT_EQ(TokenField(fresh.access_token(), "kid", true), rotation.kid());
  bool accepted = Eventually([&] { return ListTasksAs(env, fresh.access_token()).ok(); },
                             std::chrono::seconds(15));
  EXPECT_TRUE(accepted) << Describe(ListTasksAs(env, fresh.access_token()));
  EXPECT_TRUE(ListTasksAs(env, before).ok());
}

TEST(AuthKeysTest, RetiredKeysAreNoLongerPublishedAfterTheTokenLifetime) {
  auto db = TestStack::Get().CreateDatabase("keys_retire");
  Daemon auth(AuthDaemon("ates-auth", db,
                         {{"ATES_AUTH_TOKEN_TTL", "3s"}, {"ATES_AUTH_SIGNING_KEY_CACHE", "1s"}}));
  auth.Start();
  auto stub = authv1::AuthService::NewStub(auth.channel());
  Call call;
  authv1::LoginRequest req;
  req.set_login(kAdminLogin);
  req.set_password(kAdminPassword);
  authv1::LoginResponse resp;
  ASSERT_TRUE(stub->Login(&call.ctx, req, &resp).ok());
  std::string old_kid = TokenField(resp.access_token(), "kid", true);

  auto started = std::chrono::steady_clock::now();
  auto rotation = Rotate(*stub, resp.access_token());
  EXPECT_THAT(PublishedKids(*stub), Contains(old_kid));
  EXPECT_THAT(PublishedKids(*stub), Contains(rotation.kid()));
  // Published for token_ttl + 2 * cache = 5 s, then gone.
  bool gone = Eventually(
      [&] {
        auto kids = PublishedKids(*stub);
        return std::find(kids.begin(), kids.end(), old_kid) == kids.end();
      },
      std::chrono::seconds(15));
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(gone);
  EXPECT_GE(took, std::chrono::seconds(4)) << "retired before its tokens could expire";
  EXPECT_THAT(PublishedKids(*stub), Contains(rotation.kid()));
  stub.reset();
  EXPECT_EQ(auth.Stop(), 0);
}

}  // namespace
}  // namespace ates::test
