#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ates::platform {

// AIP-158 page sizes: 0 means the default, above the maximum is capped.
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 500;

// The fields of one List request that choose its rows (everything except
// page_size and page_token), with defaults already resolved (e.g. a worker's
// own account for an empty account_id), under the method's name. A page token
// carries this filter's fingerprint and is refused under any other filter.
class PageFilter final {
 public:
  explicit PageFilter(std::string_view method);
  PageFilter& Add(std::string_view field, std::string_view value);
  // 16 bytes (BLAKE2b of the fields, length-prefixed so no two filters collide by concatenation).
  std::string Fingerprint() const;

 private:
  std::string canonical_;
};

// An opaque base64url token holding `cursor` (where the next page starts, in
// the service's own terms) bound to `filter`.
std::string EncodePageToken(std::string_view cursor, const PageFilter& filter);

// The cursor in `token`, or nullopt when the token is malformed or was issued
// for another filter.
std::optional<std::string> DecodePageToken(std::string_view token, const PageFilter& filter);

// INVALID_ARGUMENT naming page_token: a token this service did not issue for this filter.
[[noreturn]] void ThrowBadPageToken();

// One page of a List request, read once by every List method: the size after
// AIP-158 and where the page starts.
class PageRequest final {
 public:
  // INVALID_ARGUMENT naming page_size when it is negative and page_token when
  // the token is malformed or bound to another filter (both in one error).
  static PageRequest Read(int page_size, std::string_view page_token, PageFilter filter);

  // Rows to return: 1..kMaxPageSize.
  int limit() const { return limit_; }
  // The cursor of the token; nullopt on the first page.
  const std::optional<std::string>& cursor() const { return cursor_; }
  // The token for the page after the row whose cursor is `last`.
  std::string NextToken(std::string_view last) const { return EncodePageToken(last, filter_); }

 private:
  PageRequest(int limit, std::optional<std::string> cursor, PageFilter filter)
      : limit_(limit), cursor_(std::move(cursor)), filter_(std::move(filter)) {}

  int limit_;
  std::optional<std::string> cursor_;
  PageFilter filter_;
};

}  // namespace ates::platform
