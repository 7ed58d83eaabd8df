#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "ates/devstack/daemon.hpp"
#include "support/process.hpp"

namespace ates::test {

// A daemon of the system under test: the launcher's (internal/devstack) on a
// free gRPC port, with its output in a file of the test stack's folder, run in
// that folder. Start() waits for grpc.health.v1 "readiness" to be SERVING. The
// log is printed when the running test has failed (or always with
// ATES_TEST_SHOW_LOGS=1).
using DaemonOptions = devstack::DaemonOptions;

class Daemon final : public devstack::Daemon {
 public:
  explicit Daemon(DaemonOptions options);
  ~Daemon() override;
};

// The key ates-auth seals its signing keys with in tests (ATES_AUTH_KEY_ENCRYPTION_KEY,
// set by SystemDaemon): a fixed test value, never a real one.
inline constexpr const char* kTestKeyEncryptionKey = "dGVzdC1rZXktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM=";

// Paths of things in the source tree (ATES_SOURCE_DIR at build time).
std::string SourcePath(const std::string& relative);

// A daemon of the system (`service`, e.g. "ates-tasks", run from `binary`
// with config/<service>.yaml) on `database_url` and the test stack's NATS, with
// the suites' defaults: the relay polls every 100 ms, a 3 s shutdown grace, 4
// database connections. `settings` (the service's own) go on top of those, and
// `overrides` (a test's) on top of everything.
DaemonOptions SystemDaemon(const std::string& name, const std::string& service,
                           const std::string& binary, const std::string& database_url,
                           const std::map<std::string, std::string>& settings,
                           const std::map<std::string, std::string>& overrides);

}  // namespace ates::test
