#include "ates/platform/token.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ates/platform/error.hpp"
#include "support/token_forge.hpp"

namespace ates::auth {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;
using test::ClaimsJson;
using test::EdDsaHeader;
using test::MintToken;

constexpr const char* kIssuer = "ates-auth";
constexpr const char* kAudience = "ates";
constexpr const char* kSubject = "0190f5c2-3b4a-7c00-8000-000000000001";

class TokenTest : public ::testing::Test {
 protected:
  TokenTest() : key_(SigningKey::Generate("k1")), verifier_(kIssuer, kAudience) {
    verifier_.SetKeys({{"k1", key_.public_key}});
  }

  TokenClaims Claims(Role role = Role::kWorker) const {
    TokenClaims c;
    c.issuer = kIssuer;
    c.audience = kAudience;
    c.subject = kSubject;
    c.role = role;
    c.issued_at = Clock::now();
    c.expires_at = c.issued_at + 1h;
    return c;
  }

  // Runs Verify and returns the UNAUTHENTICATED message, or "" when it passed.
  std::string Rejection(const std::string& token, Clock::time_point now = Clock::now()) const {
    try {
      verifier_.Verify(token, now);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kUnauthenticated) << e.what();
      return e.what();
    }
    return "";
  }

  SigningKey key_;
  TokenVerifier verifier_;
};

TEST_F(TokenTest, SignedTokenVerifiesToItsSubjectAndRole) {
  for (Role role : {Role::kAdmin, Role::kManager, Role::kAccountant, Role::kWorker}) {
    auto p = verifier_.Verify(SignToken(key_, Claims(role)));
    EXPECT_EQ(p.account_id, kSubject);
    EXPECT_EQ(p.role, role);
  }
}

TEST_F(TokenTest, HeaderNamesAlgorithmAndKid) {
  auto token = SignToken(key_, Claims());
  auto header = Base64UrlDecode(token.substr(0, token.find('.')));
  ASSERT_TRUE(header.has_value());
  EXPECT_THAT(*header, HasSubstr(R"("alg":"EdDSA")"));
  EXPECT_THAT(*header, HasSubstr(R"("kid":"k1")"));
}

TEST_F(TokenTest, TamperedPayloadIsRejected) {
  auto token = SignToken(key_, Claims(Role::kWorker));
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  auto payload = *Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto pos = payload.find("worker");
  ASSERT_NE(pos, std::string::npos);
  payload.replace(pos, 6, "admin");
  std::string forged = token.substr(0, dot1 + 1) + Base64UrlEncode(payload) + token.substr(dot2);
  EXPECT_THAT(Rejection(forged), HasSubstr("signature"));
}

TEST_F(TokenTest, TamperedSignatureIsRejected) {
  auto token = SignToken(key_, Claims());
  token.back() = token.back() == 'A' ? 'B' : 'A';
  EXPECT_NE(Rejection(token), "");
}

TEST_F(TokenTest, ForgedWithAnotherKeyUnderTheSameKidIsRejected) {
  auto other = SigningKey::Generate("k1");
  EXPECT_THAT(Rejection(SignToken(other, Claims(Role::kAdmin))), HasSubstr("signature"));
}

TEST_F(TokenTest, UnknownKidIsRejectedAndReported) {
  auto other = SigningKey::Generate("k2");
  std::string unknown;
  EXPECT_THROW(verifier_.Verify(SignToken(other, Claims()), Clock::now(), &unknown), Error);
  EXPECT_EQ(unknown, "k2");
  EXPECT_THAT(Rejection(SignToken(other, Claims())), HasSubstr("unknown key"));
}

TEST_F(TokenTest, AlgNoneIsRejected) {
  auto claims = ClaimsJson(kIssuer, kAudience, kSubject, "admin", Clock::now() + 1h);
  EXPECT_THAT(Rejection(MintToken(R"({"alg":"none","typ":"JWT","kid":"k1"})", claims, nullptr)),
              HasSubstr("alg"));
  // Even with a valid signature over it, only EdDSA is accepted.
  EXPECT_THAT(Rejection(MintToken(R"({"alg":"none","typ":"JWT","kid":"k1"})", claims, &key_)),
              HasSubstr("alg"));
  EXPECT_THAT(Rejection(MintToken(R"({"alg":"HS256","typ":"JWT","kid":"k1"})", claims, &key_)),
              HasSubstr("alg"));
  EXPECT_NE(Rejection(MintToken(R"({"typ":"JWT","kid":"k1"})", claims, &key_)), "");
}

TEST_F(TokenTest, HandMintedValidTokenIsAccepted) {
  // Guards the forge itself: the rejections above are not artefacts of MintToken.
  auto token =
      MintToken(EdDsaHeader("k1"),
                ClaimsJson(kIssuer, kAudience, kSubject, "manager", Clock::now() + 1h), &key_);
  EXPECT_EQ(verifier_.Verify(token).role, Role::kManager);
}

TEST_F(TokenTest, ExpiredTokenIsRejected) {
  auto token = SignToken(key_, Claims());
  EXPECT_EQ(Rejection(token, Clock::now() + 59min), "");
  EXPECT_THAT(Rejection(token, Clock::now() + 61min), HasSubstr("expired"));
  auto stale =
      MintToken(EdDsaHeader("k1"),
                ClaimsJson(kIssuer, kAudience, kSubject, "admin", Clock::now() - 1s), &key_);
  EXPECT_THAT(Rejection(stale), HasSubstr("expired"));
}

TEST_F(TokenTest, WrongAudienceOrIssuerIsRejected) {
  auto wrong_aud =
      MintToken(EdDsaHeader("k1"),
                ClaimsJson(kIssuer, "billing", kSubject, "admin", Clock::now() + 1h), &key_);
  EXPECT_THAT(Rejection(wrong_aud), HasSubstr("audience"));
  auto wrong_iss =
      MintToken(EdDsaHeader("k1"),
                ClaimsJson("evil", kAudience, kSubject, "admin", Clock::now() + 1h), &key_);
  EXPECT_THAT(Rejection(wrong_iss), HasSubstr("issuer"));
}

TEST_F(TokenTest, UnknownRoleOrMissingClaimsAreRejected) {
  EXPECT_NE(Rejection(MintToken(EdDsaHeader("k1"),
                                ClaimsJson(kIssuer, kAudience, kSubject, "root", Clock::now() + 1h),
                                &key_)),
            "");
  EXPECT_NE(Rejection(MintToken(EdDsaHeader("k1"), R"({"iss":"ates-auth","aud":"ates"})", &key_)),
            "");
  EXPECT_NE(Rejection(MintToken(EdDsaHeader("k1"), "not json", &key_)), "");
}

TEST_F(TokenTest, MalformedTokensAreRejected) {
  for (const std::string& bad : std::vector<std::string>{"", "abc", "a.b", "a.b.c.d", "!!!.###.$$$",
                                                         "..", std::string(9000, 'a')}) {
    EXPECT_NE(Rejection(bad), "") << bad.substr(0, 20);
  }
}

TEST_F(TokenTest, SeveralKeysVerifyDuringRotation) {
  auto next = SigningKey::Generate("k2");
  verifier_.SetKeys({{"k1", key_.public_key}, {"k2", next.public_key}});
  EXPECT_EQ(verifier_.KeyCount(), 2u);
  EXPECT_TRUE(verifier_.HasKey("k2"));
  EXPECT_EQ(Rejection(SignToken(key_, Claims())), "");
  EXPECT_EQ(Rejection(SignToken(next, Claims())), "");
  verifier_.SetKeys({{"k2", next.public_key}});
  EXPECT_THAT(Rejection(SignToken(key_, Claims())), HasSubstr("unknown key"));
}

// Verified tokens are cached: a second Verify of the same text is a cache hit,
// which must still see expiry and key changes.
TEST_F(TokenTest, ACachedTokenIsStillRefusedAfterItsKeyChangesOrItExpires) {
  auto token = SignToken(key_, Claims(Role::kManager));
  EXPECT_EQ(Rejection(token), "");
  auto again = verifier_.Verify(token);  // from the cache
  EXPECT_EQ(again.account_id, kSubject);
  EXPECT_EQ(again.role, Role::kManager);
  EXPECT_THAT(Rejection(token, Clock::now() + 61min), HasSubstr("expired"));

  auto token2 = SignToken(key_, Claims(Role::kWorker));
  EXPECT_EQ(Rejection(token2), "");
  // Same kid, another key (a rotation that reused the id): the cached
  // verification no longer counts, and the signature does not match the new key.
  auto other = SigningKey::Generate("k1");
  verifier_.SetKeys({{"k1", other.public_key}});
  EXPECT_NE(Rejection(token2), "");
  // The original key back: it verifies again.
  verifier_.SetKeys({{"k1", key_.public_key}});
  EXPECT_EQ(Rejection(token2), "");
}

TEST(SigningKey, FromSeedIsDeterministic) {
  std::string seed(32, '\x07');
  auto a = SigningKey::FromSeed("a", seed);
  auto b = SigningKey::FromSeed("b", seed);
  EXPECT_EQ(a.public_key, b.public_key);
  EXPECT_NE(SigningKey::FromSeed("c", std::string(32, '\x08')).public_key, a.public_key);
  EXPECT_THROW(SigningKey::FromSeed("short", "tooshort"), std::invalid_argument);
}

TEST(SigningKey, KeyFromSecretRecoversThePublicKey) {
  auto k = SigningKey::Generate("x");
  auto copy =
      test::KeyFromSecret("x", std::string(reinterpret_cast<const char*>(k.secret.data()), 64));
  EXPECT_EQ(copy.public_key, k.public_key);
}

TEST(Base64Url, RoundTripsEveryByteWithoutPadding) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  auto text = Base64UrlEncode(bytes);
  EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
  EXPECT_NE(text.find_first_of("-_"), std::string::npos);
  EXPECT_EQ(Base64UrlDecode(text), bytes);
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_FALSE(Base64UrlDecode("a+b/").has_value());
}

TEST(Roles, NamesRoundTrip) {
  for (Role r : {Role::kAdmin, Role::kManager, Role::kAccountant, Role::kWorker}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_EQ(RoleName(Role::kWorker), "worker");
  EXPECT_FALSE(ParseRole("unspecified").has_value());
  EXPECT_FALSE(ParseRole("Admin").has_value());
  EXPECT_FALSE(ParseRole("").has_value());
}

}  // namespace
}  // namespace ates::auth
