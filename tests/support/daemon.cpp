#include "support/daemon.hpp"

#include <gtest/gtest.h>

#include <iostream>

#include "support/test_stack.hpp"

#ifndef ATES_SOURCE_DIR
#error "ATES_SOURCE_DIR must be defined by the build"
#endif

namespace ates::test {

std::string SourcePath(const std::string& relative) {
  return std::string(ATES_SOURCE_DIR) + "/" + relative;
}

DaemonOptions SystemDaemon(const std::string& name, const std::string& service,
                           const std::string& binary, const std::string& database_url,
                           const std::map<std::string, std::string>& settings,
                           const std::map<std::string, std::string>& overrides) {
  DaemonOptions o;
  o.name = name;
  o.binary = binary;
  o.config = SourcePath("config/" + service + ".yaml");
  o.env = {
      {"ATES_DATABASE_URL", database_url},
      {"ATES_NATS_URL", TestStack::Get().nats_url()},
      {"ATES_OUTBOX_POLL_INTERVAL", "100ms"},
      {"ATES_GRPC_SHUTDOWN_GRACE", "3s"},
      {"ATES_DATABASE_POOL_SIZE", "4"},
      // The service's own NATS user (config/<service>.yaml names it).
      {"ATES_NATS_PASSWORD", TestStack::Get().NatsPassword(service)},
  };
  if (service == "ates-auth") {
    o.env["ATES_AUTH_KEY_ENCRYPTION_KEY"] = kTestKeyEncryptionKey;
  }
  for (const auto& [k, v] : settings) o.env[k] = v;
  for (const auto& [k, v] : overrides) o.env[k] = v;
  return o;
}

Daemon::Daemon(DaemonOptions options)
    : devstack::Daemon(std::move(options), [](const std::string& name) {
        return devstack::DaemonPlace{TestStack::Get().LogPath(name), TestStack::Get().dir()};
      }) {}

Daemon::~Daemon() {
  auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  bool failed = ::testing::Test::HasFailure() ||
                (info == nullptr && ::testing::UnitTest::GetInstance()->failed_test_count() > 0);
  KillAndCollect();
  // ATES_TEST_SHOW_LOGS=1 prints the log of every daemon, failed or not.
  const char* show = std::getenv("ATES_TEST_SHOW_LOGS");
  if (show != nullptr && std::string(show) == "1") failed = true;
  if (failed && !log_path().empty()) {
    std::cerr << "----- " << name() << " log (" << log_path() << ") -----\n"
              << Tail(Log(), 8000) << "----- end of " << name() << " log -----\n";
  }
}

}  // namespace ates::test
