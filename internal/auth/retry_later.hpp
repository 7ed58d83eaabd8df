#pragma once

#include <chrono>
#include <string>

#include "ates/platform/error.hpp"

namespace ates::auth {

// RESOURCE_EXHAUSTED with the delay after which a retry can succeed; the gRPC
// layer sends it as a google.rpc.RetryInfo detail.
class RetryLaterError final : public Error {
 public:
  RetryLaterError(std::string message, std::chrono::seconds retry_after)
      : Error(ErrorCode::kResourceExhausted, std::move(message)), retry_after_(retry_after) {}
  std::chrono::seconds retry_after() const { return retry_after_; }

 private:
  std::chrono::seconds retry_after_;
};

}  // namespace ates::auth
