#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace spdlog {
class logger;
}

namespace ates::log {

// A structured field; ids go here rather than into the message text.
using Field = std::pair<std::string_view, std::string>;
using Fields = std::initializer_list<Field>;

// JSON lines on stderr: {"ts":..,"level":..,"service":..,"msg":..,<fields>}, and
// "trace_id" and "span_id" when the thread has a current trace context.
// May be called again, also while other threads log (each suite of a test
// binary sets up its own; nats.c's callback thread may be writing a line).
void Init(const std::string& service, const std::string& level);
// Writes to `logger` from now on (tests catch lines with it). A logger that
// is replaced is kept, never freed: a thread may still be writing with it.
void Use(std::shared_ptr<spdlog::logger> logger);

void Debug(std::string_view msg, Fields fields = {});
// Whether Debug lines are written (to skip building what they would say).
bool DebugEnabled();
void Info(std::string_view msg, Fields fields = {});
void Warn(std::string_view msg, Fields fields = {});
void Error(std::string_view msg, Fields fields = {});

std::string JsonEscape(std::string_view text);

}  // namespace ates::log
