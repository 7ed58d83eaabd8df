#pragma once

// Client side of TLS: channel credentials that verify the server against a CA
// and optionally present a client certificate (mTLS). Only gRPC, no platform,
// so atesctl links it too.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace ates::platform {

// PEM file paths; an empty `ca` means plaintext.
struct ClientTls {
  std::string ca;           // CA that must have signed the server's certificate
  std::string cert;         // client certificate chain, for servers that require mTLS
  std::string key;          // its private key
  std::string server_name;  // name checked in the server's certificate instead of the target's host

  bool enabled() const { return !ca.empty(); }
};

// Plaintext when !tls.enabled(); else TLS credentials from the files as they
// are now (read on every call, so a new channel sees rotated files). Throws
// std::runtime_error naming a file that cannot be read, or a cert without key.
std::shared_ptr<grpc::ChannelCredentials> ClientCredentials(const ClientTls& tls);

// A channel to `target` with ClientCredentials(tls) and `args`, plus the
// server-name override when tls.server_name is set.
std::shared_ptr<grpc::Channel> CreateClientChannel(const std::string& target, const ClientTls& tls,
                                                   grpc::ChannelArguments args = {});

// The whole content of a file; std::runtime_error naming `what` and the path.
std::string ReadPemFile(const std::string& path, const std::string& what);

}  // namespace ates::platform
