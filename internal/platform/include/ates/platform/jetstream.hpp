#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "ates/platform/handles.hpp"

// nats.c types, kept out of users' headers.
typedef struct jsOptions jsOptions;

namespace ates::platform {

class NatsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Config;

// The NATS user a daemon connects as (ADR 15): each service has its own, which
// may publish only that service's subjects. Empty user: no credentials.
struct NatsCredentials {
  std::string user;
  std::string password;
  // PEM CA bundle: when set, the connection is TLS and the server's
  // certificate must chain to it (the prod overlay's NATS).
  std::string tls_ca_file;
};

// From `nats.user` and the password in `nats.password` (meant for
// ATES_NATS_PASSWORD) or the file `nats.password_file` (a mounted Secret),
// and `nats.tls_ca_file`.
// Throws ConfigError for a user without a password, both password keys set, or
// an unreadable password file.
NatsCredentials ReadNatsCredentials(Config& config);

struct StreamSpec {
  std::string name;
  std::vector<std::string> subjects;
  std::chrono::milliseconds duplicate_window{std::chrono::minutes(2)};
  int replicas = 1;
  // Retention limits, applied when the stream is created (0 / -1: unlimited).
  std::chrono::milliseconds max_age{0};
  int64_t max_bytes = -1;
};

// The four streams of the system, one per producing domain; `base` gives the
// duplicate window, replicas and retention limits of each.
std::vector<StreamSpec> SystemStreams(const StreamSpec& base);

// One NATS connection that keeps reconnecting for ever, so a daemon starts and
// serves while NATS is down and catches up when it is back. Credentials the
// server refuses are not retried: the constructor throws NatsError.
class JetStream final {
 public:
  JetStream(const std::string& url, const std::string& client_name,
            const NatsCredentials& credentials = {});
  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;

  natsConnection* connection() { return conn_.get(); }
  jsCtx* js() { return js_.get(); }
  // A JetStream context of the caller's own (e.g. with an async ack handler).
  jsCtx* NewContext(jsOptions* options);
  bool Connected() const;

  // Creates or updates the streams; throws NatsError when JetStream does not answer.
  // Creates the streams that do not exist. An existing stream is left as it is
  // (an operator may have changed its limits); differences are logged.
  void EnsureStreams(const std::vector<StreamSpec>& streams);

 private:
  NatsConnectionPtr conn_;
  JsContextPtr js_;  // after conn_: destroyed before it
};

std::string NatsStatusText(int status);

// "nats://a:4222, nats://b:4222" -> each server URL (a cluster's seed list).
std::vector<std::string> SplitServers(const std::string& url);

}  // namespace ates::platform
