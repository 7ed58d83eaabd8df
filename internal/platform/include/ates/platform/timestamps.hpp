#pragma once

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <chrono>
#include <cmath>
#include <string>
#include <string_view>

namespace ates::platform {

// An instant PostgreSQL gave as `EXTRACT(EPOCH FROM t)::float8` text, to the microsecond.
// Rounded, not truncated: seconds * 1e6 of 1700000000.123456 may come out a
// hair below ...123456, and a float8 holds every microsecond of this era exactly
// enough for rounding to give it back.
inline std::chrono::system_clock::time_point FromEpochText(std::string_view text) {
  double seconds = std::stod(std::string(text));
  return std::chrono::system_clock::time_point(
      std::chrono::microseconds(std::llround(seconds * 1e6)));
}

// An instant as a protobuf Timestamp (microsecond precision, like PostgreSQL's).
inline google::protobuf::Timestamp ToTimestamp(std::chrono::system_clock::time_point tp) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count());
}

}  // namespace ates::platform
