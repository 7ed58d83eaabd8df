#pragma once

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <chrono>
#include <string>
#include <string_view>

namespace ates::platform {

// An instant PostgreSQL gave as `EXTRACT(EPOCH FROM t)::float8` text, to the microsecond.
inline std::chrono::system_clock::time_point FromEpochText(std::string_view text) {
  double seconds = std::stod(std::string(text));
  return std::chrono::system_clock::time_point(
      std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)));
}

// An instant as a protobuf Timestamp (microsecond precision, like PostgreSQL's).
inline google::protobuf::Timestamp ToTimestamp(std::chrono::system_clock::time_point tp) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count());
}

}  // namespace ates::platform
