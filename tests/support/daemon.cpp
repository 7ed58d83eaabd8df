#include "support/daemon.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>
#include <stdexcept>

#include "grpc/health/v1/health.grpc.pb.h"
#include "support/test_stack.hpp"
#include "support/wait.hpp"

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

namespace {

// True when something accepts TCP connections on host:port.
bool Accepts(const std::string& target) {
  auto colon = target.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(target.substr(colon + 1))));
  if (inet_pton(AF_INET, target.substr(0, colon).c_str(), &addr.sin_addr) != 1) return false;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

Daemon::Daemon(DaemonOptions options) : options_(std::move(options)) {}

Daemon::~Daemon() {
  auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  bool failed = ::testing::Test::HasFailure() ||
                (info == nullptr && ::testing::UnitTest::GetInstance()->failed_test_count() > 0);
  if (process_ && process_->Running()) process_->Stop(SIGKILL, std::chrono::seconds(5));
  // ATES_TEST_SHOW_LOGS=1 prints the log of every daemon, failed or not.
  const char* show = std::getenv("ATES_TEST_SHOW_LOGS");
  if (show != nullptr && std::string(show) == "1") failed = true;
  if (failed && !log_path_.empty()) {
    std::cerr << "----- " << options_.name << " log (" << log_path_ << ") -----\n"
              << Tail(Log(), 8000) << "----- end of " << options_.name << " log -----\n";
  }
}

void Daemon::Spawn() {
  if (process_ && process_->Running()) throw std::logic_error(options_.name + " already running");
  auto env = options_.env;
  if (!env.count("ATES_GRPC_LISTEN")) {
    env["ATES_GRPC_LISTEN"] = "127.0.0.1:" + std::to_string(FreePort());
  }
  if (!env.count("ATES_ADMIN_LISTEN")) env["ATES_ADMIN_LISTEN"] = "";
  target_ = env["ATES_GRPC_LISTEN"];
  log_path_ = TestStack::Get().LogPath(options_.name);
  SpawnOptions so;
  so.argv = {options_.binary, "--config", options_.config};
  so.env = env;
  so.output_path = log_path_;
  so.cwd = TestStack::Get().dir();
  process_ = Process::Spawn(so);
  channel_.reset();
}

void Daemon::Start() {
  // The free port may be taken by someone else before the daemon binds it:
  // then it exits at once ("cannot listen") and gets another port.
  bool own_port = !options_.env.count("ATES_GRPC_LISTEN");
  for (int attempt = 1;; ++attempt) {
    Spawn();
    auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
    // Wait for the port first: a gRPC channel whose first connection attempt
    // is refused backs off for seconds before it tries again.
    bool listening = Eventually([&] { return !process_->Running() || Accepts(target_); },
                                options_.ready_timeout, std::chrono::milliseconds(20));
    bool ready = listening &&
                 Eventually(
                     [&] {
                       return !process_->Running() ||
                              HealthStatus("readiness") ==
                                  static_cast<int>(grpc::health::v1::HealthCheckResponse::SERVING);
                     },
                     std::chrono::duration_cast<std::chrono::milliseconds>(
                         deadline - std::chrono::steady_clock::now()),
                     std::chrono::milliseconds(20));
    if (ready && process_->Running()) return;
    if (!process_->Running() && own_port && attempt < 3 &&
        Log().find("cannot listen") != std::string::npos) {
      continue;
    }
    std::string why =
        process_->Running()
            ? "not ready after " + std::to_string(options_.ready_timeout.count()) + " ms"
            : "exited with " + std::to_string(*process_->exit_code());
    throw std::runtime_error(options_.name + " " + why + "; log:\n" + Tail(Log(), 6000));
  }
}

int Daemon::HealthStatus(const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(channel());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  auto status = stub->Check(&ctx, req, &resp);
  return status.ok() ? static_cast<int>(resp.status()) : -1;
}

int Daemon::Stop(std::chrono::milliseconds timeout) {
  if (!process_) return -1;
  channel_.reset();
  return process_->Stop(SIGTERM, timeout);
}

void Daemon::Kill() {
  if (process_) process_->Stop(SIGKILL, std::chrono::seconds(5));
}

void Daemon::Signal(int sig) {
  if (process_) process_->Signal(sig);
}

std::optional<int> Daemon::WaitExit(std::chrono::milliseconds timeout) {
  if (!process_) return std::nullopt;
  return process_->Wait(timeout);
}

bool Daemon::Running() { return process_ && process_->Running(); }

std::shared_ptr<grpc::Channel> Daemon::channel() {
  if (!channel_) {
    grpc::ChannelArguments args;
    // Own subchannels (no back-off state shared with earlier channels to a
    // daemon on the same port) and quick reconnects after a restart.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
    channel_ = platform::CreateClientChannel(target_, options_.tls, args);
  }
  return channel_;
}

std::string Daemon::Log() const { return log_path_.empty() ? "" : ReadFile(log_path_); }

}  // namespace ates::test
