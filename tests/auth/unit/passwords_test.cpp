#include "passwords.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ates::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(Passwords, HashIsArgon2idAtOwaspMinimum) {
  auto hash = HashPassword("correct horse");
  EXPECT_THAT(hash, StartsWith("$argon2id$"));
  EXPECT_THAT(hash, HasSubstr("m=19456,t=2"));
  EXPECT_EQ(hash.find("correct horse"), std::string::npos);
}

TEST(Passwords, VerifiesTheRightPasswordOnly) {
  auto hash = HashPassword("correct horse");
  EXPECT_TRUE(VerifyPassword(hash, "correct horse"));
  EXPECT_FALSE(VerifyPassword(hash, "correct horsE"));
  EXPECT_FALSE(VerifyPassword(hash, "correct horse "));
  EXPECT_FALSE(VerifyPassword(hash, ""));
}

TEST(Passwords, SaltMakesEveryHashDifferent) {
  auto a = HashPassword("same password");
  auto b = HashPassword("same password");
  EXPECT_NE(a, b);
  EXPECT_TRUE(VerifyPassword(a, "same password"));
  EXPECT_TRUE(VerifyPassword(b, "same password"));
}

TEST(Passwords, GarbageHashNeverVerifies) {
  EXPECT_FALSE(VerifyPassword("", "x"));
  EXPECT_FALSE(VerifyPassword("$argon2id$garbage", "x"));
}

TEST(Passwords, DummyHashIsValidButMatchesNothingGuessable) {
  const auto& dummy = DummyHash();
  EXPECT_THAT(dummy, StartsWith("$argon2id$"));
  EXPECT_EQ(&dummy, &DummyHash());  // computed once
  EXPECT_FALSE(VerifyPassword(dummy, ""));
  EXPECT_FALSE(VerifyPassword(dummy, "password"));
}

}  // namespace
}  // namespace ates::auth
