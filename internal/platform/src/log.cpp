#include "ates/platform/log.hpp"

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <vector>

#include "ates/platform/trace_context.hpp"

namespace ates::log {
namespace {

// spdlog's default logger is not used: set_default_logger frees the logger it
// replaces while another thread may still be writing with it (spdlog says so
// in registry-inl.h). Every logger stays alive instead, and the one in use is
// an atomic pointer.
struct Loggers {
  absl::Mutex mu;
  std::vector<std::shared_ptr<spdlog::logger>> kept ABSL_GUARDED_BY(mu);
  std::atomic<spdlog::logger*> current{nullptr};
};

// Never destroyed: nats.c and gRPC threads may log during static destruction.
Loggers& State() {
  static auto* state = new Loggers;
  return *state;
}

spdlog::logger& Logger() {
  spdlog::logger* current = State().current.load(std::memory_order_acquire);
  return current ? *current : *spdlog::default_logger_raw();  // before Init: spdlog's own
}

std::string Render(std::string_view msg, Fields fields) {
  std::string out = "\"msg\":\"" + JsonEscape(msg) + "\"";
  for (const auto& [key, value] : fields) {
    out += ",\"";
    out += JsonEscape(key);
    out += "\":\"";
    out += JsonEscape(value);
    out += "\"";
  }
  // The RPC or event this thread works for, so one grep follows a request.
  if (const auto* trace = trace::Current()) {
    out += ",\"trace_id\":\"";
    out += trace->trace_id;
    out += "\",\"span_id\":\"";
    out += trace->span_id;
    out += "\"";
  }
  return out;
}

}  // namespace

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

void Init(const std::string& service, const std::string& level) {
  // Not registered with spdlog by name, so a second Init for a service is fine.
  auto logger =
      std::make_shared<spdlog::logger>(service, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","service":"%n",%v})",
                      spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  Use(std::move(logger));
}

void Use(std::shared_ptr<spdlog::logger> logger) {
  auto& state = State();
  absl::MutexLock lock(&state.mu);
  state.current.store(logger.get(), std::memory_order_release);
  state.kept.push_back(std::move(logger));
}

void Debug(std::string_view msg, Fields fields) {
  if (DebugEnabled()) Logger().debug(Render(msg, fields));
}
bool DebugEnabled() { return Logger().should_log(spdlog::level::debug); }

void Info(std::string_view msg, Fields fields) { Logger().info(Render(msg, fields)); }
void Warn(std::string_view msg, Fields fields) { Logger().warn(Render(msg, fields)); }
void Error(std::string_view msg, Fields fields) { Logger().error(Render(msg, fields)); }

}  // namespace ates::log
