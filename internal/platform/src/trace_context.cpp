#include "ates/platform/trace_context.hpp"

#include <random>

namespace ates::trace {
namespace {

constexpr size_t kTraceIdLength = 32;
constexpr size_t kSpanIdLength = 16;
// "00-" + trace id + "-" + span id + "-" + flags
constexpr size_t kTraceparentLength = 3 + kTraceIdLength + 1 + kSpanIdLength + 1 + 2;
constexpr char kHex[] = "0123456789abcdef";

int LowerHexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not valid in a traceparent
}

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (LowerHexDigit(c) < 0) return false;
  }
  return true;
}

bool IsAllZero(std::string_view text) { return text.find_first_not_of('0') == std::string::npos; }

bool IsValidId(std::string_view id) { return IsLowerHex(id) && !IsAllZero(id); }

// Seeded once per thread from the system's entropy, then pure arithmetic.
std::mt19937_64& Engine() {
  thread_local std::mt19937_64 engine = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return engine;
}

// `digits` random lower-case hex digits, never all zero.
std::string RandomHex(size_t digits) {
  std::string out(digits, '0');
  while (IsAllZero(out)) {
    for (size_t i = 0; i < digits; i += 16) {
      uint64_t bits = Engine()();
      for (size_t j = i; j < digits && j < i + 16; ++j, bits >>= 4) out[j] = kHex[bits & 0xf];
    }
  }
  return out;
}

thread_local std::optional<TraceContext> current;

}  // namespace

std::string TraceContext::Traceparent() const {
  std::string out;
  out.reserve(kTraceparentLength);
  out += "00-";
  out += trace_id;
  out += '-';
  out += span_id;
  out += '-';
  out += kHex[flags >> 4];
  out += kHex[flags & 0xf];
  return out;
}

TraceContext TraceContext::Child() const { return {trace_id, NewSpanId(), flags}; }

std::optional<TraceContext> Parse(std::string_view header) {
  if (header.size() != kTraceparentLength || header.substr(0, 3) != "00-" ||
      header[3 + kTraceIdLength] != '-' || header[4 + kTraceIdLength + kSpanIdLength] != '-') {
    return std::nullopt;
  }
  auto trace_id = header.substr(3, kTraceIdLength);
  auto span_id = header.substr(4 + kTraceIdLength, kSpanIdLength);
  auto flags = header.substr(5 + kTraceIdLength + kSpanIdLength, 2);
  if (!IsValidId(trace_id) || !IsValidId(span_id) || !IsLowerHex(flags)) return std::nullopt;
  auto flag_bits = static_cast<uint8_t>(LowerHexDigit(flags[0]) * 16 + LowerHexDigit(flags[1]));
  return TraceContext{std::string(trace_id), std::string(span_id), flag_bits};
}

TraceContext NewTrace() { return {NewTraceId(), NewSpanId(), 0x01}; }

TraceContext ContinueOrStart(std::string_view header) {
  auto parent = Parse(header);
  return parent ? parent->Child() : NewTrace();
}

std::string NewTraceId() { return RandomHex(kTraceIdLength); }
std::string NewSpanId() { return RandomHex(kSpanIdLength); }

const TraceContext* Current() { return current ? &*current : nullptr; }

std::optional<TraceContext> Exchange(std::optional<TraceContext> context) {
  std::swap(current, context);
  return context;
}

}  // namespace ates::trace
