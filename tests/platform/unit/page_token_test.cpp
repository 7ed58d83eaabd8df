// AIP-158 page sizes and page tokens bound to the filter they were issued for.

#include "ates/platform/page_token.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/error_fields.hpp"

namespace ates::platform {
namespace {

using test::FieldsOf;
using ::testing::ElementsAre;

PageFilter Tasks(std::string_view status, std::string_view assignee) {
  return PageFilter("ListTasks").Add("status", status).Add("assignee_id", assignee);
}

TEST(PageRequest, ZeroMeansTheDefaultAndLargeSizesAreCappedNotRefused) {
  EXPECT_EQ(PageRequest::Read(0, "", Tasks("", "")).limit(), kDefaultPageSize);
  EXPECT_EQ(PageRequest::Read(7, "", Tasks("", "")).limit(), 7);
  EXPECT_EQ(PageRequest::Read(500, "", Tasks("", "")).limit(), 500);
  EXPECT_EQ(PageRequest::Read(501, "", Tasks("", "")).limit(), kMaxPageSize);
  EXPECT_EQ(PageRequest::Read(1'000'000, "", Tasks("", "")).limit(), kMaxPageSize);
}

TEST(PageRequest, NegativeSizeIsInvalidArgumentNamingPageSize) {
  EXPECT_THAT(FieldsOf([] { PageRequest::Read(-1, "", Tasks("", "")); }), ElementsAre("page_size"));
}

TEST(PageRequest, FirstPageHasNoCursor) {
  EXPECT_FALSE(PageRequest::Read(0, "", Tasks("", "")).cursor().has_value());
}

TEST(PageRequest, NextTokenCarriesTheCursorUnderTheSameFilter) {
  auto first = PageRequest::Read(10, "", Tasks("open", "a"));
  auto token = first.NextToken("row-42");
  auto second = PageRequest::Read(10, token, Tasks("open", "a"));
  ASSERT_TRUE(second.cursor().has_value());
  EXPECT_EQ(*second.cursor(), "row-42");
}

TEST(PageRequest, TokenIsOpaqueBase64Url) {
  auto token = EncodePageToken("2026-03-10|some id", Tasks("open", "a"));
  EXPECT_EQ(token.find("2026"), std::string::npos);
  EXPECT_EQ(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
}

TEST(PageRequest, TokenUnderAnotherFilterIsRefusedNamingPageToken) {
  auto token = EncodePageToken("row-42", Tasks("open", "a"));
  EXPECT_THAT(FieldsOf([&] { PageRequest::Read(10, token, Tasks("completed", "a")); }),
              ElementsAre("page_token"));
  EXPECT_THAT(FieldsOf([&] { PageRequest::Read(10, token, Tasks("open", "b")); }),
              ElementsAre("page_token"));
  EXPECT_THAT(FieldsOf([&] {
                PageRequest::Read(10, token, PageFilter("ListAccounts").Add("status", "open"));
              }),
              ElementsAre("page_token"));
}

TEST(PageRequest, FieldsDoNotRunTogether) {
  // "ab" + "" and "a" + "b" are different filters.
  auto token = EncodePageToken("x", PageFilter("M").Add("f", "ab").Add("g", ""));
  EXPECT_FALSE(DecodePageToken(token, PageFilter("M").Add("f", "a").Add("g", "b")).has_value());
  EXPECT_TRUE(DecodePageToken(token, PageFilter("M").Add("f", "ab").Add("g", "")).has_value());
}

TEST(PageRequest, MalformedTokensAreRefusedNamingPageToken) {
  auto good = EncodePageToken("row-42", Tasks("", ""));
  for (const std::string& bad :
       std::vector<std::string>{"not a token!", "AAAA", good.substr(0, 10), good + "=",
                                "00000000-0000-0000-0000-000000000000", "17"}) {
    EXPECT_THAT(FieldsOf([&] { PageRequest::Read(10, bad, Tasks("", "")); }),
                ElementsAre("page_token"))
        << bad;
  }
}

TEST(PageRequest, BadSizeAndBadTokenAreReportedTogether) {
  EXPECT_THAT(FieldsOf([] { PageRequest::Read(-5, "%%", Tasks("", "")); }),
              ElementsAre("page_size", "page_token"));
}

}  // namespace
}  // namespace ates::platform
