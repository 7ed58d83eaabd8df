#pragma once

// atesctl's exit codes and how gRPC status codes map onto them. Pure (the
// status-code enum is header-only) so the mapping is unit-tested.

#include <grpcpp/support/status_code_enum.h>

#include <string>

namespace ates::ctl {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,             // Anything else (internal server error, local I/O...).
  kExitUsage = 2,             // Unknown command or flag, missing or malformed argument.
  kExitUnauthenticated = 3,   // Bad credentials, expired token, not logged in.
  kExitPermissionDenied = 4,  // The account's role may not do this.
  kExitNotFound = 5,
  kExitUnavailable = 6,      // Server down or too slow (UNAVAILABLE, DEADLINE_EXCEEDED).
  kExitInvalidArgument = 7,  // The server rejected a field (details on stderr).
  kExitConflict = 8,         // ALREADY_EXISTS or FAILED_PRECONDITION.
  kExitDifferences = 9,      // A check ran and found differences (audit reconcile).
};

ExitCode ExitCodeFor(grpc::StatusCode code);

// What a status code means in plain words, e.g. "permission denied".
std::string PlainWords(grpc::StatusCode code);

// The exit-code table shown by `atesctl --help`.
std::string ExitCodeHelp();

}  // namespace ates::ctl
