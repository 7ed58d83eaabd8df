#pragma once
// Helpers of the ates-auth hardening suites (ADR 16).

#include <grpcpp/grpcpp.h>

#include <string>

#include "ates/platform/token.hpp"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace ates::test {

// The google.rpc.RetryInfo delay of a status in whole seconds, -1 without one.
inline int64_t RetryDelaySeconds(const grpc::Status& status) {
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return -1;
  for (const auto& any : rich.details()) {
    google::rpc::RetryInfo info;
    if (any.UnpackTo(&info)) return info.retry_delay().seconds();
  }
  return -1;
}

// One field of a token's header or payload ("kid", "ver", ...) as raw JSON text.
inline std::string TokenField(const std::string& token, const std::string& name, bool header) {
  auto dot = token.find('.');
  auto part =
      header ? token.substr(0, dot) : token.substr(dot + 1, token.find('.', dot + 1) - dot - 1);
  auto json = auth::Base64UrlDecode(part);
  if (!json) return "";
  auto pos = json->find("\"" + name + "\":");
  if (pos == std::string::npos) return "";
  pos += name.size() + 3;
  if ((*json)[pos] == '"') return json->substr(pos + 1, json->find('"', pos + 1) - pos - 1);
  return json->substr(pos, json->find_first_of(",}", pos) - pos);
}

}  // namespace ates::test
