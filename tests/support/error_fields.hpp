#pragma once

// The fields an INVALID_ARGUMENT names, as domain code throws them and as a
// gRPC client receives them (google.rpc.BadRequest in the status details).

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "ates/platform/error.hpp"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace ates::test {

// Runs `fn`; if it throws ates::Error, expects INVALID_ARGUMENT and returns the
// fields it names; returns {} when nothing was thrown.
inline std::vector<std::string> FieldsOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    std::vector<std::string> fields;
    for (const auto& v : e.violations()) fields.push_back(v.field);
    return fields;
  }
  return {};
}

// Field names in the google.rpc.BadRequest detail of a status.
inline std::vector<std::string> BadRequestFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return fields;
  for (const auto& any : rich.details()) {
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) fields.push_back(v.field());
    }
  }
  return fields;
}

// The retry delay a status suggests (google.rpc.RetryInfo), or -1 ms without one.
inline std::chrono::milliseconds RetryDelay(const grpc::Status& status) {
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return std::chrono::milliseconds(-1);
  for (const auto& any : rich.details()) {
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&retry)) {
      return std::chrono::milliseconds(retry.retry_delay().seconds() * 1000 +
                                       retry.retry_delay().nanos() / 1000000);
    }
  }
  return std::chrono::milliseconds(-1);
}

}  // namespace ates::test
