#include "mail_format.hpp"

#include <sodium.h>

#include <ctime>
#include <vector>

namespace ates::billing {
namespace {

bool IsAscii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::string Quoted(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Pieces of at most `max` bytes that never split a UTF-8 sequence.
std::vector<std::string_view> Utf8Chunks(std::string_view text, size_t max) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t n = std::min(max, text.size());
    while (n < text.size() && n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    if (n == 0) n = std::min(max, text.size());
    out.push_back(text.substr(0, n));
    text.remove_prefix(n);
  }
  return out;
}

std::string EncodedWords(std::string_view name) {
  std::string out;
  // 45 bytes -> 60 base64 characters + 12 for "=?UTF-8?B?" and "?=": 72 <= 75.
  for (auto chunk : Utf8Chunks(name, 45)) {
    std::string b64(sodium_base64_ENCODED_LEN(chunk.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(chunk.data()),
                      chunk.size(), sodium_base64_VARIANT_ORIGINAL);
    b64.resize(b64.find('\0'));
    if (!out.empty()) out += ' ';
    out += "=?UTF-8?B?" + b64 + "?=";
  }
  return out;
}

}  // namespace

std::string WithoutControls(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) out += c;
  }
  return out;
}

std::string FormatMailbox(std::string_view display_name, std::string_view address) {
  std::string name = WithoutControls(display_name);
  std::string addr = WithoutControls(address);
  if (name.empty()) return addr;
  return (IsAscii(name) ? Quoted(name) : EncodedWords(name)) + " <" + addr + ">";
}

std::string FormatMailDate(std::chrono::system_clock::time_point when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&t, &utc);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return buf;
}

}  // namespace ates::billing
