#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ates/platform/error.hpp"
#include "support/error_fields.hpp"
#include "validation.hpp"

namespace ates::auth {
namespace {

using test::FieldsOf;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

NewAccount GoodAccount() {
  NewAccount a;
  a.login = "popug.one";
  a.full_name = "Popug One";
  a.email = "popug.one@example.com";
  a.role = Role::kWorker;
  a.password = "correct horse";
  return a;
}

TEST(IsValidLogin, Rules) {
  EXPECT_TRUE(IsValidLogin("abc"));
  EXPECT_TRUE(IsValidLogin("a.b_c-d"));
  EXPECT_TRUE(IsValidLogin("1popug"));
  EXPECT_TRUE(IsValidLogin(std::string(kMaxLogin, 'a')));
  EXPECT_FALSE(IsValidLogin(""));
  EXPECT_FALSE(IsValidLogin("ab"));
  EXPECT_FALSE(IsValidLogin(std::string(kMaxLogin + 1, 'a')));
  EXPECT_FALSE(IsValidLogin("Popug"));  // lower case only
  EXPECT_FALSE(IsValidLogin("-popug"));
  EXPECT_FALSE(IsValidLogin(".popug"));
  EXPECT_FALSE(IsValidLogin("po pug"));
  EXPECT_FALSE(IsValidLogin("popug@home"));
  EXPECT_FALSE(IsValidLogin("pop\xc3\xbcg"));
  EXPECT_FALSE(IsValidLogin(std::string("pop\0ug", 6)));
}

TEST(IsValidEmail, Rules) {
  EXPECT_TRUE(IsValidEmail("a@b.co"));
  EXPECT_TRUE(IsValidEmail("first.last+tag@sub.example.com"));
  EXPECT_FALSE(IsValidEmail(""));
  EXPECT_FALSE(IsValidEmail("popug"));
  EXPECT_FALSE(IsValidEmail("popug@"));
  EXPECT_FALSE(IsValidEmail("@example.com"));
  EXPECT_FALSE(IsValidEmail("popug@example"));
  EXPECT_FALSE(IsValidEmail("popug@.com"));
  EXPECT_FALSE(IsValidEmail("popug@example."));
  EXPECT_FALSE(IsValidEmail("po@pug@example.com"));
  EXPECT_FALSE(IsValidEmail("po pug@example.com"));
  EXPECT_FALSE(IsValidEmail("popug@exa..mple.com"));
  EXPECT_FALSE(IsValidEmail("<popug@example.com>"));
  EXPECT_FALSE(IsValidEmail("a@b.co,c@d.co"));
  EXPECT_FALSE(IsValidEmail("popug@example.com\n"));
  std::string longest = std::string(kMaxEmail - 12, 'a') + "@example.com";
  EXPECT_TRUE(IsValidEmail(longest));
  EXPECT_FALSE(IsValidEmail("a" + longest));
}

TEST(IsValidFullName, Rules) {
  EXPECT_TRUE(IsValidFullName("Popug"));
  EXPECT_TRUE(IsValidFullName("Попуг Попугаев"));
  EXPECT_TRUE(IsValidFullName(std::string(kMaxFullName, 'x')));
  EXPECT_FALSE(IsValidFullName(""));
  EXPECT_FALSE(IsValidFullName("   "));
  EXPECT_FALSE(IsValidFullName(std::string(kMaxFullName + 1, 'x')));
  EXPECT_FALSE(IsValidFullName(std::string(10 * 1024, 'x')));
  EXPECT_FALSE(IsValidFullName("line\nbreak"));
  EXPECT_FALSE(IsValidFullName("tab\there"));
  EXPECT_FALSE(IsValidFullName("del\x7f"));
}

TEST(IsValidPassword, Length) {
  EXPECT_FALSE(IsValidPassword(""));
  EXPECT_FALSE(IsValidPassword(std::string(kMinPassword - 1, 'p')));
  EXPECT_TRUE(IsValidPassword(std::string(kMinPassword, 'p')));
  EXPECT_TRUE(IsValidPassword(std::string(kMaxPassword, 'p')));
  EXPECT_FALSE(IsValidPassword(std::string(kMaxPassword + 1, 'p')));
}

TEST(ValidateNewAccount, AcceptsAGoodAccount) { EXPECT_NO_THROW(Validate(GoodAccount())); }

TEST(ValidateNewAccount, NamesEachBadField) {
  auto a = GoodAccount();
  a.login = "";
  EXPECT_THAT(FieldsOf([&] { Validate(a); }), ElementsAre("login"));
  a = GoodAccount();
  a.email = "not-an-email";
  EXPECT_THAT(FieldsOf([&] { Validate(a); }), ElementsAre("email"));
  a = GoodAccount();
  a.role = Role::kUnspecified;
  EXPECT_THAT(FieldsOf([&] { Validate(a); }), ElementsAre("role"));
  a = GoodAccount();
  a.full_name = std::string(10 * 1024, 'x');
  EXPECT_THAT(FieldsOf([&] { Validate(a); }), ElementsAre("full_name"));
  a = GoodAccount();
  a.password = "short";
  EXPECT_THAT(FieldsOf([&] { Validate(a); }), ElementsAre("password"));
}

TEST(ValidateNewAccount, NamesAllBadFieldsAtOnce) {
  NewAccount a;
  EXPECT_THAT(FieldsOf([&] { Validate(a); }),
              UnorderedElementsAre("login", "full_name", "email", "role", "password"));
}

TEST(ValidatePatch, AcceptsPartialPatches) {
  AccountPatch p;
  p.account_id = "0190f5c2-3b4a-7c00-8000-000000000001";
  p.active = false;
  EXPECT_NO_THROW(Validate(p));
  p.active.reset();
  p.role = Role::kManager;
  EXPECT_NO_THROW(Validate(p));
  p.email = "new@example.com";
  p.full_name = "New Name";
  EXPECT_NO_THROW(Validate(p));
}

TEST(ValidatePatch, NamesBadFields) {
  AccountPatch p;
  p.account_id = "0190f5c2-3b4a-7c00-8000-000000000001";
  p.role = Role::kUnspecified;
  EXPECT_THAT(FieldsOf([&] { Validate(p); }), ElementsAre("role"));
  p.role.reset();
  p.email = "bad";
  EXPECT_THAT(FieldsOf([&] { Validate(p); }), ElementsAre("email"));
  p.email.reset();
  p.full_name = "";
  EXPECT_THAT(FieldsOf([&] { Validate(p); }), ElementsAre("full_name"));
  p.full_name = "Fine";
  p.account_id = "not-a-uuid";
  EXPECT_THAT(FieldsOf([&] { Validate(p); }), ElementsAre("account_id"));
}

TEST(ValidatePatch, EmptyPatchIsRejected) {
  AccountPatch p;
  p.account_id = "0190f5c2-3b4a-7c00-8000-000000000001";
  EXPECT_THAT(FieldsOf([&] { Validate(p); }), ElementsAre("account_id"));
}

}  // namespace
}  // namespace ates::auth
