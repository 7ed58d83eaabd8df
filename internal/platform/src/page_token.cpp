#include "ates/platform/page_token.hpp"

#include <sodium.h>

#include <algorithm>
#include <vector>

#include "ates/platform/error.hpp"

namespace ates::platform {
namespace {

// The first byte of every token, so that a later format can tell its tokens apart.
constexpr char kTokenVersion = '\x01';
constexpr size_t kFingerprintBytes = 16;
constexpr int kBase64Variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

void AppendLengthPrefixed(std::string& out, std::string_view text) {
  out += std::to_string(text.size());
  out += ':';
  out += text;
}

std::string ToBase64Url(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), kBase64Variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), kBase64Variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> FromBase64Url(std::string_view text) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, kBase64Variant) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace

PageFilter::PageFilter(std::string_view method) { AppendLengthPrefixed(canonical_, method); }

PageFilter& PageFilter::Add(std::string_view field, std::string_view value) {
  AppendLengthPrefixed(canonical_, field);
  AppendLengthPrefixed(canonical_, value);
  return *this;
}

std::string PageFilter::Fingerprint() const {
  std::string out(kFingerprintBytes, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(canonical_.data()), canonical_.size(),
                     nullptr, 0);
  return out;
}

std::string EncodePageToken(std::string_view cursor, const PageFilter& filter) {
  std::string bytes(1, kTokenVersion);
  bytes += filter.Fingerprint();
  bytes += cursor;
  return ToBase64Url(bytes);
}

std::optional<std::string> DecodePageToken(std::string_view token, const PageFilter& filter) {
  auto bytes = FromBase64Url(token);
  if (!bytes || bytes->size() <= 1 + kFingerprintBytes || (*bytes)[0] != kTokenVersion) {
    return std::nullopt;
  }
  if (bytes->compare(1, kFingerprintBytes, filter.Fingerprint()) != 0) return std::nullopt;
  return bytes->substr(1 + kFingerprintBytes);
}

void ThrowBadPageToken() {
  throw Error(ErrorCode::kInvalidArgument, "bad page_token",
              {{"page_token", "must be a next_page_token returned for this same filter"}});
}

PageRequest PageRequest::Read(int page_size, std::string_view page_token, PageFilter filter) {
  Validator v;
  v.Check(page_size >= 0, "page_size",
          "must not be negative (0 means " + std::to_string(kDefaultPageSize) + ", at most " +
              std::to_string(kMaxPageSize) + ")");
  std::optional<std::string> cursor;
  if (!page_token.empty()) {
    cursor = DecodePageToken(page_token, filter);
    v.Check(cursor.has_value(), "page_token",
            "must be a next_page_token returned for this same filter");
  }
  v.ThrowIfInvalid();
  int limit = page_size == 0 ? kDefaultPageSize : std::min(page_size, kMaxPageSize);
  return PageRequest(limit, std::move(cursor), std::move(filter));
}

}  // namespace ates::platform
