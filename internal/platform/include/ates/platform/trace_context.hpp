#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// W3C Trace Context (https://www.w3.org/TR/trace-context/): one trace id from
// a request to the ledger, carried in the `traceparent` header of gRPC calls,
// HTTP requests and NATS messages, and written on every log line (ADR 33).
namespace ates::trace {

inline constexpr const char* kTraceparentHeader = "traceparent";

// One span of a trace: which trace, which span within it, and its flags.
struct TraceContext {
  std::string trace_id;  // 32 lower-case hex digits, not all zero
  std::string span_id;   // 16 lower-case hex digits, not all zero
  uint8_t flags = 0;     // bit 0: sampled

  // "00-<trace_id>-<span_id>-<flags>".
  std::string Traceparent() const;
  // The same trace with a new span id (a child of this span).
  TraceContext Child() const;
};

// A version-00 `traceparent` header; nullopt for anything else (another
// version, wrong lengths or separators, upper-case or non-hex digits, an
// all-zero id). A bad header is never an error: the caller starts a new trace.
std::optional<TraceContext> Parse(std::string_view header);

// A new trace (random trace and span ids, sampled).
TraceContext NewTrace();
// A child of the parsed `header` when it is valid, else a new trace.
TraceContext ContinueOrStart(std::string_view header);

// Random ids from a per-thread generator: no system call per id.
std::string NewTraceId();
std::string NewSpanId();

// The context this thread works for (the RPC or event it handles), or null.
const TraceContext* Current();
// Makes `context` (or none) current and returns what was current before.
std::optional<TraceContext> Exchange(std::optional<TraceContext> context);

// Makes a context current for a scope, then restores the one before.
class Scope final {
 public:
  explicit Scope(TraceContext context) : previous_(Exchange(std::move(context))) {}
  ~Scope() { Exchange(std::move(previous_)); }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  std::optional<TraceContext> previous_;
};

}  // namespace ates::trace
