#include <fstream>
#include <sstream>

#include "ates/platform/config.hpp"
#include "ates/platform/jetstream.hpp"

namespace ates::platform {
namespace {

std::string ReadPasswordFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("config key 'nats.password_file': cannot read '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string password = buffer.str();
  // Secrets written by `echo` or editors end with a newline that is no part of it.
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();
  }
  if (password.empty())
    throw ConfigError("config key 'nats.password_file': '" + path + "' is empty");
  return password;
}

}  // namespace

NatsCredentials ReadNatsCredentials(Config& config) {
  NatsCredentials c;
  c.tls_ca_file = config.GetString("nats.tls_ca_file", "");
  c.user = config.GetString("nats.user", "");
  std::string password = config.GetString("nats.password", "");
  std::string file = config.GetString("nats.password_file", "");
  if (!password.empty() && !file.empty()) {
    throw ConfigError("both nats.password and nats.password_file are set: use one");
  }
  if (c.user.empty()) {
    if (!password.empty() || !file.empty()) {
      throw ConfigError("a NATS password is set but nats.user is empty");
    }
    return c;
  }
  c.password = file.empty() ? password : ReadPasswordFile(file);
  if (c.password.empty()) {
    throw ConfigError("nats.user is '" + c.user + "' but it has no password: set " +
                      Config::EnvName("nats.password") + " or nats.password_file (or set " +
                      Config::EnvName("nats.user") + "= to connect without credentials)");
  }
  return c;
}

}  // namespace ates::platform
