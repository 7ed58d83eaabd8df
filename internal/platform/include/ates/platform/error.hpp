#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ates {

// Outcome classes the domain can report; the gRPC layer maps each to the status
// code of the same name. Domain code throws Error and never includes grpcpp.
enum class ErrorCode {
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kUnavailable,
  kInternal,
};

struct FieldViolation {
  std::string field;
  std::string description;
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, std::vector<FieldViolation> violations = {})
      : std::runtime_error(std::move(message)), code_(code), violations_(std::move(violations)) {}

  ErrorCode code() const { return code_; }
  const std::vector<FieldViolation>& violations() const { return violations_; }

  // How long the caller should wait before trying again (a limit was hit);
  // zero when there is no such hint. Sent as google.rpc.RetryInfo.
  std::chrono::milliseconds retry_after() const { return retry_after_; }
  Error&& WithRetryAfter(std::chrono::milliseconds delay) && {
    retry_after_ = delay;
    return std::move(*this);
  }

 private:
  ErrorCode code_;
  std::vector<FieldViolation> violations_;
  std::chrono::milliseconds retry_after_{0};
};

// Collects field violations and throws one INVALID_ARGUMENT naming all of them.
class Validator final {
 public:
  void Check(bool ok, std::string field, std::string description) {
    if (!ok) violations_.push_back({std::move(field), std::move(description)});
  }
  void ThrowIfInvalid() const;
  bool ok() const { return violations_.empty(); }

 private:
  std::vector<FieldViolation> violations_;
};

}  // namespace ates
