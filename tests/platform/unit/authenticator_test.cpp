// The authenticator in front of every RPC: a token verified once is served
// from the verifier's cache, which must keep expiry, its bound and, above all,
// revocation (ADR 17: the account states are consulted on every call).
#include "ates/platform/authenticator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <optional>

#include "ates/platform/account_states.hpp"
#include "ates/platform/error.hpp"

namespace ates::platform {
namespace {

using auth::Role;
using auth::SigningKey;
using auth::TokenClaims;
using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

constexpr const char* kAccount = "0190f5c2-3b4a-7c00-8000-000000000007";

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest()
      : key_(SigningKey::Generate("k1")),
        verifier_("ates-auth", "ates"),
        states_([this](double) { return rows_; }),
        authenticator_(verifier_) {
    verifier_.SetKeys({{"k1", key_.public_key}});
    authenticator_.SetAccountStates(&states_);
  }

  std::string Token(std::string subject = kAccount, Clock::duration ttl = 1h,
                    int64_t version = 1) const {
    TokenClaims c;
    c.issuer = "ates-auth";
    c.audience = "ates";
    c.subject = std::move(subject);
    c.role = Role::kWorker;
    c.account_version = version;
    c.issued_at = Clock::now();
    c.expires_at = c.issued_at + ttl;
    return auth::SignToken(key_, c);
  }
  std::optional<ErrorCode> Refusal(const std::string& token) const {
    try {
      authenticator_.Authenticate("Bearer " + token);
    } catch (const Error& e) {
      return e.code();
    }
    return std::nullopt;
  }

  SigningKey key_;
  auth::TokenVerifier verifier_;
  std::vector<AccountStateRow> rows_ = {{kAccount, 1, true, 100}};
  AccountStates states_;
  Authenticator authenticator_;
};

TEST_F(AuthenticatorTest, ACachedTokenIsRefusedOnceItsAccountIsDeactivated) {
  states_.Refresh();
  auto token = Token();
  EXPECT_EQ(Refusal(token), std::nullopt);
  EXPECT_EQ(Refusal(token), std::nullopt);  // now verified from the cache
  rows_ = {{kAccount, 2, false, 101}};
  states_.Refresh();
  EXPECT_EQ(Refusal(token), ErrorCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, ACachedTokenIsRefusedOnceItsAccountChanged) {
  states_.Refresh();
  auto token = Token();
  EXPECT_EQ(Refusal(token), std::nullopt);
  rows_ = {{kAccount, 2, true, 101}};  // role or password changed: version 2
  states_.Refresh();
  EXPECT_EQ(Refusal(token), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Refusal(Token(kAccount, 1h, 2)), std::nullopt);
}

TEST_F(AuthenticatorTest, ACachedTokenExpires) {
  auto token = Token(kAccount, 2s);
  EXPECT_EQ(Refusal(token), std::nullopt);
  EXPECT_EQ(verifier_.Verify(token).account_id, kAccount);  // cached
  EXPECT_THROW(verifier_.Verify(token, Clock::now() + 3s), Error);
}

// The cache holds at most a few thousand verdicts and is emptied when full:
// tokens past the bound, and those cached before it was emptied, still verify.
TEST_F(AuthenticatorTest, TheVerifiedTokenCacheIsBoundedAndStillVerifiesPastIt) {
  auto first = Token("0190f5c2-3b4a-7c00-8000-100000000000");
  EXPECT_EQ(Refusal(first), std::nullopt);
  for (int i = 1; i <= 4200; ++i) {
    char id[40];
    std::snprintf(id, sizeof id, "0190f5c2-3b4a-7c00-8000-1%011d", i);
    ASSERT_EQ(Refusal(Token(id)), std::nullopt) << i;
  }
  EXPECT_EQ(Refusal(first), std::nullopt);
  EXPECT_EQ(Refusal(first + "x"), ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace ates::platform
