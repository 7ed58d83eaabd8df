#include "ates/platform/rpc_status.hpp"

#include "ates/platform/log.hpp"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace ates::platform {
namespace {

grpc::StatusCode CodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case ErrorCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case ErrorCode::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case ErrorCode::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case ErrorCode::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case ErrorCode::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
    case ErrorCode::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case ErrorCode::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case ErrorCode::kInternal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

}  // namespace

grpc::Status ToStatus(const ates::Error& error) {
  auto code = CodeFor(error.code());
  if (error.violations().empty() && error.retry_after().count() == 0) {
    return grpc::Status(code, error.what());
  }
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(code));
  rich.set_message(error.what());
  if (!error.violations().empty()) {
    google::rpc::BadRequest bad;
    for (const auto& v : error.violations()) {
      auto* fv = bad.add_field_violations();
      fv->set_field(v.field);
      fv->set_description(v.description);
    }
    rich.add_details()->PackFrom(bad);
  }
  if (error.retry_after().count() > 0) {
    google::rpc::RetryInfo retry;
    auto ms = error.retry_after().count();
    retry.mutable_retry_delay()->set_seconds(ms / 1000);
    retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
    rich.add_details()->PackFrom(retry);
  }
  return grpc::Status(code, error.what(), rich.SerializeAsString());
}

std::optional<std::chrono::steady_clock::time_point> DeadlineOf(const grpc::ServerContext& ctx) {
  auto deadline = ctx.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return std::nullopt;
  auto left = deadline - std::chrono::system_clock::now();
  // A deadline years away is no deadline (and would overflow the steady clock).
  if (left > std::chrono::hours(24 * 365)) return std::nullopt;
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
}

grpc::Status DatabaseStatus(const pg::PgError& error) {
  if (error.IsCommitUnknown()) {
    // Unlike a plain outage, a blind retry by the client might apply it twice.
    log::Error("commit outcome unknown", {{"error", error.what()}});
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "database lost while committing: the change may or may not have been"
                        " applied; check before retrying");
  }
  if (const auto* timeout = dynamic_cast<const pg::TimeoutError*>(&error)) {
    // A batch shared with other callers (GroupCommit) can end at another
    // caller's deadline: for this caller that is an unavailable database.
    if (timeout->kind() == pg::TimeoutError::Kind::kDeadline && pg::CallDeadline::Passed()) {
      log::Warn("database call stopped at the caller's deadline", {{"error", error.what()}});
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline exceeded");
    }
    log::Warn("database busy", {{"error", error.what()}});
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "database busy, retry later");
  }
  if (error.sqlstate() == "57014") {  // statement_timeout (or an operator's cancel)
    log::Warn("database statement timed out", {{"error", error.what()}});
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "database statement timed out");
  }
  if (error.sqlstate() == "55P03") {  // lock_timeout
    log::Warn("database lock wait timed out", {{"error", error.what()}});
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "database busy, retry later");
  }
  if (error.IsRetryable()) {
    log::Warn("database unavailable", {{"error", error.what()}});
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "database unavailable, retry later");
  }
  log::Error("database error", {{"error", error.what()}, {"sqlstate", error.sqlstate()}});
  return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
}

grpc::Status InternalStatus(const std::exception& error) {
  log::Error("internal error", {{"error", error.what()}});
  return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
}

}  // namespace ates::platform
