#include "ates/platform/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "ates/platform/trace_context.hpp"

namespace ates::log {
namespace {

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
  auto logger = spdlog::stderr_logger_mt(service);
  logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","service":"%n",%v})",
                      spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void Debug(std::string_view msg, Fields fields) {
  if (spdlog::should_log(spdlog::level::debug)) spdlog::debug(Render(msg, fields));
}
bool DebugEnabled() { return spdlog::should_log(spdlog::level::debug); }

void Info(std::string_view msg, Fields fields) { spdlog::info(Render(msg, fields)); }
void Warn(std::string_view msg, Fields fields) { spdlog::warn(Render(msg, fields)); }
void Error(std::string_view msg, Fields fields) { spdlog::error(Render(msg, fields)); }

}  // namespace ates::log
