// Key sets from ates-auth are merged, not replaced (ADR 0014): a key missing
// from an answer keeps verifying for the retired-key grace, then is dropped.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ates/platform/error.hpp"
#include "ates/platform/token.hpp"

namespace ates::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

class TokenMergeTest : public ::testing::Test {
 protected:
  TokenMergeTest()
      : old_(SigningKey::Generate("old")),
        next_(SigningKey::Generate("next")),
        verifier_("ates-auth", "ates") {
    verifier_.SetRetiredKeyGrace(1h);
  }

  std::string Token(const SigningKey& key) const {
    TokenClaims c{"ates-auth", "ates",       "account-1",      Role::kAdmin,
                  1,           Clock::now(), Clock::now() + 2h};
    return SignToken(key, c);
  }
  bool Verifies(const std::string& token) const {
    try {
      verifier_.Verify(token);
      return true;
    } catch (const Error&) {
      return false;
    }
  }

  SigningKey old_;
  SigningKey next_;
  TokenVerifier verifier_;
};

TEST_F(TokenMergeTest, AKeyMissingFromAnAnswerKeepsVerifyingDuringTheGrace) {
  auto t0 = Clock::now();
  verifier_.MergeKeys({{"old", old_.public_key}}, t0);
  auto token = Token(old_);
  ASSERT_TRUE(Verifies(token));

  EXPECT_THAT(verifier_.MergeKeys({{"next", next_.public_key}}, t0 + 59min), IsEmpty());
  EXPECT_TRUE(verifier_.HasKey("old"));
  EXPECT_TRUE(verifier_.HasKey("next"));
  EXPECT_TRUE(Verifies(token));
  EXPECT_TRUE(Verifies(Token(next_)));
}

TEST_F(TokenMergeTest, AKeyMissingLongerThanTheGraceIsDroppedAndStopsVerifying) {
  auto t0 = Clock::now();
  verifier_.MergeKeys({{"old", old_.public_key}, {"next", next_.public_key}}, t0);
  auto token = Token(old_);
  ASSERT_TRUE(Verifies(token));  // cached from here on

  verifier_.MergeKeys({{"next", next_.public_key}}, t0 + 30min);
  EXPECT_THAT(verifier_.MergeKeys({{"next", next_.public_key}}, t0 + 60min), ElementsAre("old"));
  EXPECT_FALSE(verifier_.HasKey("old"));
  EXPECT_EQ(verifier_.KeyCount(), 1u);
  EXPECT_FALSE(Verifies(token));
}

TEST_F(TokenMergeTest, AKeySeenAgainRestartsItsGrace) {
  auto t0 = Clock::now();
  verifier_.MergeKeys({{"old", old_.public_key}}, t0);
  verifier_.MergeKeys({{"next", next_.public_key}}, t0 + 50min);
  verifier_.MergeKeys({{"old", old_.public_key}, {"next", next_.public_key}}, t0 + 55min);
  EXPECT_THAT(verifier_.MergeKeys({{"next", next_.public_key}}, t0 + 110min), IsEmpty());
  EXPECT_TRUE(verifier_.HasKey("old"));
}

TEST_F(TokenMergeTest, AnAnswerWithANewKeyForAKnownKidReplacesIt) {
  auto t0 = Clock::now();
  verifier_.MergeKeys({{"old", old_.public_key}}, t0);
  auto token = Token(old_);
  ASSERT_TRUE(Verifies(token));
  verifier_.MergeKeys({{"old", next_.public_key}}, t0 + 1min);
  EXPECT_FALSE(Verifies(token));
}

TEST_F(TokenMergeTest, ZeroGraceDropsAMissingKeyAtOnce) {
  verifier_.SetRetiredKeyGrace(0ms);
  auto t0 = Clock::now();
  verifier_.MergeKeys({{"old", old_.public_key}}, t0);
  EXPECT_THAT(verifier_.MergeKeys({{"next", next_.public_key}}, t0), ElementsAre("old"));
}

}  // namespace
}  // namespace ates::auth
