#include "ates/devstack/daemon.hpp"

#include <signal.h>

#include <stdexcept>
#include <thread>

#include "ates/devstack/files.hpp"
#include "ates/devstack/readiness.hpp"
#include "grpc/health/v1/health.grpc.pb.h"

namespace ates::devstack {
namespace {

using std::chrono::milliseconds;

// Polls `pred` every `interval` until it holds or `timeout` passes; returns
// the last result.
template <class Pred>
bool PollUntil(Pred&& pred, milliseconds timeout, milliseconds interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace

Daemon::Daemon(DaemonOptions options, PlaceDaemon place)
    : options_(std::move(options)), place_(std::move(place)) {}

Daemon::~Daemon() { KillAndCollect(); }

void Daemon::KillAndCollect() {
  if (process_ && process_->Running()) process_->Stop(SIGKILL, std::chrono::seconds(5));
  tee_.reset();
}

void Daemon::Finished() {
  if (process_ && !process_->Running()) tee_.reset();
}

void Daemon::Spawn() {
  if (process_ && process_->Running()) throw std::logic_error(options_.name + " already running");
  tee_.reset();
  auto env = options_.env;
  if (!env.count("ATES_GRPC_LISTEN")) {
    env["ATES_GRPC_LISTEN"] = "127.0.0.1:" + std::to_string(FreePort());
  }
  if (!env.count("ATES_ADMIN_LISTEN")) env["ATES_ADMIN_LISTEN"] = "";
  target_ = env["ATES_GRPC_LISTEN"];
  DaemonPlace place = place_(options_.name);
  log_path_ = place.log_path;
  SpawnOptions so;
  so.argv = {options_.binary, "--config", options_.config};
  so.env = env;
  so.output_path = log_path_;
  so.cwd = place.cwd;
  so.drop_env_prefixes = options_.drop_env_prefixes;
  if (!options_.echo_prefix.empty()) so.output = SpawnOptions::Output::kPipe;
  process_ = Process::Spawn(so);
  if (!options_.echo_prefix.empty()) {
    tee_ = std::make_unique<LogTee>(process_->output_fd(), log_path_, options_.echo_prefix);
  }
  channel_.reset();
}

bool Daemon::WaitReady() {
  auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  // Wait for the port first: a gRPC channel whose first connection attempt
  // is refused backs off for seconds before it tries again.
  bool listening = PollUntil([&] { return !process_->Running() || Accepts(target_); },
                             options_.ready_timeout, milliseconds(20));
  constexpr int kServing = static_cast<int>(grpc::health::v1::HealthCheckResponse::SERVING);
  // A channel whose first handshake failed (a TLS server still loading its
  // certificate) can stay failed: a fresh one every 2 s of not being ready.
  auto fresh_at = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  auto serving = [&] {
    if (std::chrono::steady_clock::now() >= fresh_at) {
      channel_.reset();
      fresh_at = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    }
    return HealthStatus("readiness") == kServing;
  };
  return listening &&
         PollUntil(
             [&] { return !process_->Running() || serving(); },
             std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now()),
             milliseconds(20)) &&
         process_->Running();
}

void Daemon::Start() {
  // The free port may be taken by someone else before the daemon binds it:
  // then it exits at once ("cannot listen") and gets another port.
  bool own_port = !options_.env.count("ATES_GRPC_LISTEN");
  for (int attempt = 1;; ++attempt) {
    Spawn();
    if (WaitReady()) return;
    Finished();
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
  return devstack::HealthStatus(channel(), service);
}

int Daemon::Stop(milliseconds timeout) {
  if (!process_) return -1;
  channel_.reset();
  int rc = process_->Stop(SIGTERM, timeout);
  tee_.reset();
  return rc;
}

void Daemon::Kill() {
  if (process_) process_->Stop(SIGKILL, std::chrono::seconds(5));
  tee_.reset();
}

void Daemon::Signal(int sig) {
  if (process_) process_->Signal(sig);
}

std::optional<int> Daemon::WaitExit(milliseconds timeout) {
  if (!process_) return std::nullopt;
  auto rc = process_->Wait(timeout);
  Finished();
  return rc;
}

bool Daemon::Running() { return process_ && process_->Running(); }

std::shared_ptr<grpc::Channel> Daemon::channel() {
  if (!channel_) channel_ = NewChannel();
  return channel_;
}

std::shared_ptr<grpc::Channel> Daemon::NewChannel() const {
  grpc::ChannelArguments args;
  // Own subchannels (no back-off state shared with earlier channels to a
  // daemon on the same port) and quick reconnects after a restart.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  std::string target = target_;
  if (target.starts_with("0.0.0.0:")) target = "127.0.0.1" + target.substr(7);
  return platform::CreateClientChannel(target, options_.tls, args);
}

std::string Daemon::Log() const { return log_path_.empty() ? "" : ReadFile(log_path_); }

}  // namespace ates::devstack
