#pragma once
// Helpers of the ates-auth hardening suites (ADR 16).

#include <grpcpp/grpcpp.h>

#include <string>

#include "ates/platform/token.hpp"
#include "support/error_fields.hpp"

namespace ates::test {

// The google.rpc.RetryInfo delay of a status in whole seconds, -1 without one.
inline int64_t RetryDelaySeconds(const grpc::Status& status) {
  auto delay = RetryDelay(status);
  return delay.count() < 0 ? -1 : delay.count() / 1000;
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
