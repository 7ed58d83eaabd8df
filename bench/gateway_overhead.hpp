#pragma once

#include <string>

#include "common.hpp"

namespace ates::bench {

// One call, AuthService/GetAccount of the caller, made `calls` times one after
// another straight over gRPC to ates-auth (`auth_target`) and through
// ates-gateway (`gateway_url`, HTTP/1.1 keep-alive, Connect JSON), interleaved
// in rounds so both see the same machine. Reports both p50s and the
// difference, held to "the gateway adds <= 1 ms at p50".
void BenchGatewayOverhead(const Settings& s, const std::string& auth_target,
                          const std::string& gateway_url, const std::string& token, int calls);

}  // namespace ates::bench
