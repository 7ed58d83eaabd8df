#include "exit_codes.hpp"

namespace ates::ctl {

ExitCode ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::UNAUTHENTICATED:
      return kExitUnauthenticated;
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitPermissionDenied;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kExitUnavailable;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitInvalidArgument;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return kExitConflict;
    default:
      return kExitError;
  }
}

std::string PlainWords(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "ok";
    case grpc::StatusCode::CANCELLED:
      return "cancelled";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "invalid argument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "no answer in time";
    case grpc::StatusCode::NOT_FOUND:
      return "not found";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "already exists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "permission denied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "server busy or request too large";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "not possible in the current state";
    case grpc::StatusCode::ABORTED:
      return "aborted by a concurrent change";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "out of range";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "not supported by the server";
    case grpc::StatusCode::UNAVAILABLE:
      return "server unavailable";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "not authenticated";
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
      return "server error";
    default:
      return "request failed";
  }
}

std::string ExitCodeHelp() {
  return "  0  ok\n"
         "  1  other error\n"
         "  2  usage error (unknown command or flag, missing or malformed argument)\n"
         "  3  not authenticated (wrong password, expired token, not logged in)\n"
         "  4  permission denied\n"
         "  5  not found\n"
         "  6  server unavailable or no answer within --timeout\n"
         "  7  invalid argument (each rejected field is printed)\n"
         "  8  already exists or not possible in the current state\n"
         "  9  differences found (audit reconcile)\n";
}

}  // namespace ates::ctl
