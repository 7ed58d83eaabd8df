#pragma once

#include <grpcpp/support/status.h>

#include <string>

namespace ates::gateway {

// Connect protocol error codes and bodies (https://connectrpc.com/docs/protocol).

// "invalid_argument" for INVALID_ARGUMENT, ... ("unknown" for anything else).
const char* ConnectCodeName(grpc::StatusCode code);
// The HTTP status the Connect protocol gives a code (400, 401, 403, 404, ...).
int ConnectHttpStatus(grpc::StatusCode code);

// The Connect error JSON of `status`: code, message and, from the
// google.rpc.Status in status.error_details() (grpc-status-details-bin), each
// detail as {"type": "google.rpc.BadRequest", "value": base64 without padding,
// "debug": its JSON when the type is known}.
std::string ConnectErrorBody(const grpc::Status& status);

// Base64 (standard alphabet) without '=' padding, as Connect writes binary.
std::string Base64NoPadding(const std::string& bytes);

}  // namespace ates::gateway
