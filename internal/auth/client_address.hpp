#pragma once

#include <string>
#include <string_view>

namespace ates::auth {

// The client's address from a gRPC peer string without the port:
// "ipv4:10.0.0.7:51234" -> "10.0.0.7", "ipv6:[::1]:5000" -> "::1"; anything
// else (unix sockets) as it is.
std::string AddressFromPeer(std::string_view peer);

// The client address a trusted proxy appended to a forwarded header
// (X-Forwarded-For style: the last comma-separated entry, trimmed); "" when
// the header is empty.
std::string AddressFromForwarded(std::string_view header_value);

}  // namespace ates::auth
