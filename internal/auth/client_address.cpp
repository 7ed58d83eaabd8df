#include "client_address.hpp"

namespace ates::auth {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string AddressFromPeer(std::string_view peer) {
  constexpr std::string_view kV4 = "ipv4:";
  constexpr std::string_view kV6 = "ipv6:";
  if (peer.substr(0, kV4.size()) == kV4) {
    auto host = peer.substr(kV4.size());
    return std::string(host.substr(0, host.rfind(':')));
  }
  if (peer.substr(0, kV6.size()) == kV6) {
    auto host = peer.substr(kV6.size());
    if (!host.empty() && host.front() == '[') {
      auto end = host.find(']');
      if (end != std::string_view::npos) return std::string(host.substr(1, end - 1));
    }
    return std::string(host);
  }
  return std::string(peer);
}

std::string AddressFromForwarded(std::string_view header_value) {
  auto comma = header_value.rfind(',');
  auto last = comma == std::string_view::npos ? header_value : header_value.substr(comma + 1);
  return std::string(Trim(last));
}

}  // namespace ates::auth
