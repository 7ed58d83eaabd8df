#include "ates/platform/tls_channel.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ates::platform {

std::string ReadPemFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + what + " file '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string pem = buffer.str();
  if (pem.find("-----BEGIN ") == std::string::npos) {
    throw std::runtime_error(what + " file '" + path + "' holds no PEM block");
  }
  return pem;
}

std::shared_ptr<grpc::ChannelCredentials> ClientCredentials(const ClientTls& tls) {
  if (!tls.enabled()) {
    if (!tls.cert.empty() || !tls.key.empty()) {
      throw std::runtime_error(
          "a TLS client certificate needs the CA file that verifies the server");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (tls.cert.empty() != tls.key.empty()) {
    throw std::runtime_error(
        "a TLS client certificate and its key go together: set both or neither");
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadPemFile(tls.ca, "TLS CA");
  if (!tls.cert.empty()) {
    options.pem_cert_chain = ReadPemFile(tls.cert, "TLS client certificate");
    options.pem_private_key = ReadPemFile(tls.key, "TLS client key");
  }
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::Channel> CreateClientChannel(const std::string& target, const ClientTls& tls,
                                                   grpc::ChannelArguments args) {
  if (tls.enabled() && !tls.server_name.empty()) args.SetSslTargetNameOverride(tls.server_name);
  return grpc::CreateCustomChannel(target, ClientCredentials(tls), args);
}

}  // namespace ates::platform
