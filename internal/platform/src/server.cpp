#include "ates/platform/server.hpp"

#include <absl/synchronization/mutex.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/server_interceptor.h>
#include <nats/nats.h>
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <thread>

#include "ates/auth/v1/auth_service.grpc.pb.h"
#include "ates/platform/auth_keys.hpp"
#include "ates/platform/dead_letter_service.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/tls.hpp"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.pb.h"

namespace ates::platform {
namespace {

grpc::StatusCode CodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case ErrorCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case ErrorCode::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case ErrorCode::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case ErrorCode::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case ErrorCode::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
    case ErrorCode::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case ErrorCode::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case ErrorCode::kInternal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

const char* CodeName(grpc::StatusCode code) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return (i >= 0 && i <= 16) ? kNames[i] : "UNKNOWN";
}

// Counts every RPC by method and code and observes its latency.
class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(Metrics& metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      auto status = methods->GetSendStatus();
      metrics_.RpcCount(method_, CodeName(status.error_code())).Increment();
      metrics_.RpcLatency(method_).Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    }
    methods->Proceed();
  }

 private:
  Metrics& metrics_;
  std::string method_;
  std::chrono::steady_clock::time_point start_;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(Metrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info->method());
  }

 private:
  Metrics& metrics_;
};

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Strips an optional scheme so both "host:port" and "http://host:port" work.
std::string GrpcTarget(std::string url) {
  for (const char* scheme : {"http://", "grpc://", "dns:///"}) {
    if (url.rfind(scheme, 0) == 0) return url.substr(std::strlen(scheme));
  }
  return url;
}

}  // namespace

grpc::Status ToStatus(const ates::Error& error) {
  auto code = CodeFor(error.code());
  if (error.violations().empty() && error.retry_after().count() == 0) {
    return grpc::Status(code, error.what());
  }
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(code));
  rich.set_message(error.what());
  if (!error.violations().empty()) {
    google::rpc::BadRequest bad;
    for (const auto& v : error.violations()) {
      auto* fv = bad.add_field_violations();
      fv->set_field(v.field);
      fv->set_description(v.description);
    }
    rich.add_details()->PackFrom(bad);
  }
  if (error.retry_after().count() > 0) {
    google::rpc::RetryInfo retry;
    auto ms = error.retry_after().count();
    retry.mutable_retry_delay()->set_seconds(ms / 1000);
    retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
    rich.add_details()->PackFrom(retry);
  }
  return grpc::Status(code, error.what(), rich.SerializeAsString());
}

std::optional<std::chrono::steady_clock::time_point> DeadlineOf(const grpc::ServerContext& ctx) {
  auto deadline = ctx.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return std::nullopt;
  auto left = deadline - std::chrono::system_clock::now();
  // A deadline years away is no deadline (and would overflow the steady clock).
  if (left > std::chrono::hours(24 * 365)) return std::nullopt;
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
}

grpc::Status DatabaseStatus(const pg::PgError& error) {
  if (error.IsCommitUnknown()) {
    // Unlike a plain outage, a blind retry by the client might apply it twice.
    log::Error("commit outcome unknown", {{"error", error.what()}});
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "database lost while committing: the change may or may not have been"
                        " applied; check before retrying");
  }
  if (const auto* timeout = dynamic_cast<const pg::TimeoutError*>(&error)) {
    // A batch shared with other callers (GroupCommit) can end at another
    // caller's deadline: for this caller that is an unavailable database.
    if (timeout->kind() == pg::TimeoutError::Kind::kDeadline && pg::CallDeadline::Passed()) {
      log::Warn("database call stopped at the caller's deadline", {{"error", error.what()}});
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "deadline exceeded");
    }
    log::Warn("database busy", {{"error", error.what()}});
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "database busy, retry later");
  }
  if (error.sqlstate() == "57014") {  // statement_timeout (or an operator's cancel)
    log::Warn("database statement timed out", {{"error", error.what()}});
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "database statement timed out");
  }
  if (error.sqlstate() == "55P03") {  // lock_timeout
    log::Warn("database lock wait timed out", {{"error", error.what()}});
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "database busy, retry later");
  }
  if (error.IsRetryable()) {
    log::Warn("database unavailable", {{"error", error.what()}});
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "database unavailable, retry later");
  }
  log::Error("database error", {{"error", error.what()}, {"sqlstate", error.sqlstate()}});
  return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
}

grpc::Status InternalStatus(const std::exception& error) {
  log::Error("internal error", {{"error", error.what()}});
  return grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
}

App::App(std::string service, Config config)
    : service_(std::move(service)), config_(std::move(config)) {
  grpc_listen_ = config_.GetString("grpc.listen");
  admin_listen_ = config_.GetString("admin.listen");
  max_message_bytes_ = config_.GetInt("grpc.max_message_bytes");
  shutdown_grace_ = config_.GetDuration("grpc.shutdown_grace");
  pg::PoolOptions po;
  po.acquire_timeout = config_.GetDuration("database.acquire_timeout");
  po.connection.connect_timeout = config_.GetDuration("database.connect_timeout");
  po.connection.statement_timeout = config_.GetDuration("database.statement_timeout");
  po.connection.lock_timeout = config_.GetDuration("database.lock_timeout");
  po.connection.idle_in_transaction_timeout =
      config_.GetDuration("database.idle_in_transaction_timeout");
  po.connection.keepalives_idle = config_.GetDuration("database.keepalives_idle");
  po.connection.keepalives_interval = config_.GetDuration("database.keepalives_interval");
  po.connection.keepalives_count = static_cast<int>(config_.GetInt("database.keepalives_count"));
  po.connection.tcp_user_timeout = config_.GetDuration("database.tcp_user_timeout");
  db_ = std::make_unique<pg::Pool>(config_.GetString("database.url"),
                                   static_cast<int>(config_.GetInt("database.pool_size")), po);
  nats_ = std::make_unique<JetStream>(config_.GetString("nats.url"), service_,
                                      ReadNatsCredentials(config_));
  StreamSpec stream;
  stream.duplicate_window = config_.GetDuration("nats.duplicate_window");
  stream.replicas = static_cast<int>(config_.GetInt("nats.stream_replicas"));
  stream.max_age = config_.GetDuration("nats.stream_max_age");
  stream.max_bytes = config_.GetInt("nats.stream_max_bytes");
  streams_ = SystemStreams(stream);
  inbox_retention_ = config_.GetDuration("inbox.retention", std::chrono::milliseconds(0));
  RelayOptions ro;
  ro.producer = service_;
  ro.batch_size = static_cast<int>(config_.GetInt("outbox.batch_size"));
  ro.poll_interval = config_.GetDuration("outbox.poll_interval");
  ro.retention = config_.GetDuration("outbox.retention");
  ro.leader_timeout = config_.GetDuration("outbox.leader_timeout");
  if (ro.leader_timeout < std::chrono::seconds(1)) {
    throw ConfigError("config key 'outbox.leader_timeout' must be at least 1s (got " +
                      std::to_string(ro.leader_timeout.count()) + "ms)");
  }
  ro.connection = po.connection;
  relay_ = std::make_unique<OutboxRelay>(ro, db_->conninfo(), *nats_, &metrics_);
  verifier_ = std::make_unique<auth::TokenVerifier>(config_.GetString("auth.issuer"),
                                                    config_.GetString("auth.audience"));
  authenticator_ = std::make_unique<Authenticator>(*verifier_);
  admission_ = std::make_unique<CallAdmission>(policies_, *authenticator_);
  for (const auto& policy : PlatformServicePolicies()) policies_.Add(policy);
  keys_url_ = config_.GetString("auth.keys_url", "");
  key_refresh_ = config_.GetDuration("auth.keys_refresh", std::chrono::minutes(1));
  migrations_ = pg::PlatformMigrations();
  verifier_->SetRetiredKeyGrace(
      config_.GetDuration("auth.retired_key_grace", std::chrono::minutes(10)));
  auto keys_tls = ReadClientTls(config_, "auth.tls");
  if (!keys_url_.empty()) key_loader_ = RemoteKeyLoader(GrpcTarget(keys_url_), std::move(keys_tls));
  authenticator_->SetKeyRefresh([this] { RefreshKeys(); });
}

App::~App() = default;

void App::AddMigrations(const std::vector<pg::Migration>& migrations) {
  migrations_.insert(migrations_.end(), migrations.begin(), migrations.end());
}

void App::AddService(grpc::Service* service, const ServicePolicy& policy) {
  policies_.Add(policy);
  services_.emplace_back(service, policy.service_name());
}

AccountStates& App::EnableRevocation(AccountStates::Loader loader) {
  account_states_ = std::make_unique<AccountStates>(std::move(loader));
  authenticator_->SetAccountStates(account_states_.get());
  OnReady([this] {
    account_states_->Refresh();  // loaded before the daemon reports ready
    account_states_->Start();
  });
  OnStop([this] { account_states_->Stop(); });
  return *account_states_;
}

void App::AddConsumer(ConsumerOptions options, EventHandler& handler) {
  options.inbox_retention = inbox_retention_;
  if (!dead_letters_) {
    // A daemon that consumes events shows its dead letters and replays them.
    dead_letters_ =
        std::make_unique<DeadLetterGrpcService>(*db_, [this](const std::string& name) -> Consumer* {
          for (auto& c : consumers_) {
            if (c->name() == name) return c.get();
          }
          return nullptr;
        });
    AddService(dead_letters_.get(), DeadLetterGrpcService::Policy());
  }
  consumers_.push_back(
      std::make_unique<Consumer>(std::move(options), *nats_, *db_, handler, &metrics_));
}

void App::SetKeyLoader(
    std::function<std::map<std::string, std::array<unsigned char, 32>>()> loader) {
  key_loader_ = std::move(loader);
}

void App::RefreshKeys() {
  if (!key_loader_) return;
  std::lock_guard lock(keys_mu_);
  try {
    auto keys = key_loader_();
    if (keys.empty()) throw std::runtime_error("no keys returned");
    for (const auto& kid : verifier_->MergeKeys(std::move(keys))) {
      log::Info("verification key dropped after its grace period", {{"kid", kid}});
    }
    if (key_failures_ > 0) {
      log::Info("verification keys loaded", {{"keys", std::to_string(verifier_->KeyCount())},
                                             {"failed_attempts", std::to_string(key_failures_)}});
    }
    key_failures_ = 0;
  } catch (const std::exception& e) {
    // Retried every second while no key is loaded: log the first failure and
    // then every 30th, not each one.
    if (key_failures_++ % 30 == 0) {
      log::Warn("cannot refresh verification keys",
                {{"error", e.what()}, {"attempts", std::to_string(key_failures_)}});
    }
  }
}

void App::SetReady(bool ready) {
  if (ready && stopping_) return;
  ready_ = ready;
  if (!server_) return;
  auto* health = server_->GetHealthCheckService();
  health->SetServingStatus("readiness", ready);
  for (const auto& [svc, name] : services_) health->SetServingStatus(name, ready);
}

void App::ReportReadiness() {
  if (stopping_) return;
  // Not ready before the first verification keys: every RPC that needs a token
  // would answer UNAVAILABLE. The relay and consumers run all the same.
  bool keys_ok = !key_loader_ || verifier_->KeyCount() > 0;
  // Nor while a consumer waits for the database: it applies nothing, and the
  // RPCs that read or write it would fail too.
  bool database_ok = std::none_of(consumers_.begin(), consumers_.end(),
                                  [](const auto& c) { return c->waiting_for_database(); });
  // The "events" health service also turns NOT_SERVING while a consumer is
  // about to lose events to stream retention: an operator must look, but the
  // RPCs still work, so it does not take the replica out of traffic.
  bool events_ok =
      database_ok && std::none_of(consumers_.begin(), consumers_.end(),
                                  [](const auto& c) { return c->retention_at_risk(); });
  if (events_ok != events_ok_) {
    events_ok_ = events_ok;
    server_->GetHealthCheckService()->SetServingStatus(kEventsHealth, events_ok);
  }
  bool ready = keys_ok && database_ok;
  if (ready == ready_) return;
  SetReady(ready);
  if (ready_) log::Info("ready", {{"grpc", bound_address_}, {"admin", admin_listen_}});
}

void App::Initialize() {
  // Retry until the database is there: a daemon may start before PostgreSQL.
  for (int attempt = 1; !stopping_; ++attempt) {
    try {
      pg::Migrate(*db_, migrations_);
      break;
    } catch (const std::exception& e) {
      if (attempt == 1 || attempt % 10 == 0) {
        log::Warn("database not ready, retrying", {{"error", e.what()}});
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
  if (stopping_) return;
  for (auto& fn : on_ready_) {
    for (int attempt = 1; !stopping_; ++attempt) {
      try {
        fn();
        break;
      } catch (const ConfigError& e) {
        log::Error("configuration error", {{"error", e.what()}});
        std::cerr << service_ << ": configuration error: " << e.what() << "\n";
        exit_code_ = 2;
        RequestStop();
        return;
      } catch (const std::exception& e) {
        if (attempt == 1 || attempt % 10 == 0) {
          log::Warn("start-up step failed, retrying", {{"error", e.what()}});
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    }
  }
  if (stopping_) return;
  // Events flow whether or not ates-auth is up: the relay and consumers need
  // no token. Only RPCs that need one wait for the keys (UNAVAILABLE until then).
  relay_->Start();
  for (auto& c : consumers_) c->Start();
  log::Info("relay and consumers started", {{"consumers", std::to_string(consumers_.size())}});
  RefreshKeys();
  ReportReadiness();
  if (!ready_) {
    log::Warn(
        "not ready until token verification keys load (RPCs that need a token answer"
        " UNAVAILABLE)",
        {{"keys_url", keys_url_}});
  }
  // Streams are created when NATS answers; the relay and consumers retry until then.
  std::thread([this] {
    for (int attempt = 1; !stopping_; ++attempt) {
      try {
        nats_->EnsureStreams(streams_);
        return;
      } catch (const std::exception& e) {
        if (attempt == 1 || attempt % 20 == 0) {
          log::Warn("cannot ensure streams yet", {{"error", e.what()}});
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    }
  }).detach();
  // Keep verification keys current so rotated keys are known before use; while
  // there are none yet, ask every second.
  auto next_refresh = [this] {
    bool have_keys = !key_loader_ || verifier_->KeyCount() > 0;
    return std::chrono::steady_clock::now() +
           (have_keys ? key_refresh_ : std::chrono::milliseconds(1000));
  };
  auto next = next_refresh();
  while (!stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (std::chrono::steady_clock::now() >= next) {
      RefreshKeys();
      next = next_refresh();
    }
    ReportReadiness();
  }
}

void App::RequestStop() { kill(getpid(), SIGTERM); }

int App::Run() {
  auto credentials = ServerCredentials(ReadServerTls(config_));
  config_.CheckNoUnknownKeys();
  metrics_.Serve(admin_listen_);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Link the health schema so reflection can describe grpc.health.v1.Health.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(grpc_listen_, credentials, &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(max_message_bytes_));
  builder.SetMaxSendMessageSize(static_cast<int>(max_message_bytes_));
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 32);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  // Admission first: the metrics see the status it sets for unparsable requests.
  interceptors.push_back(admission_->InterceptorFactory());
  interceptors.push_back(std::make_unique<MetricsInterceptorFactory>(metrics_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  for (auto& [svc, name] : services_) builder.RegisterService(svc);
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    log::Error("cannot listen", {{"grpc", grpc_listen_}});
    return 1;
  }
  bound_address_ = grpc_listen_.substr(0, grpc_listen_.rfind(':') + 1) + std::to_string(port);
  auto* health = server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus("liveness", true);
  health->SetServingStatus(kEventsHealth, false);
  SetReady(false);
  log::Info("listening", {{"grpc", bound_address_}, {"admin", admin_listen_}});

  std::thread init([this] { Initialize(); });

  sigset_t set = StopSignals();
  int sig = 0;
  sigwait(&set, &sig);
  log::Info("stopping", {{"signal", strsignal(sig)}});
  stopping_ = true;
  health->SetServingStatus("", false);
  health->SetServingStatus(kEventsHealth, false);
  SetReady(false);
  server_->Shutdown(std::chrono::system_clock::now() + shutdown_grace_);
  init.join();
  for (auto it = on_stop_.rbegin(); it != on_stop_.rend(); ++it) (*it)();
  for (auto& c : consumers_) c->Stop();
  relay_->Stop();
  log::Info("stopped");
  return exit_code_;
}

int RunDaemon(const std::string& service, int argc, char** argv,
              const std::function<void(App&)>& build) {
  // Before any thread exists, so that only sigwait() sees SIGINT/SIGTERM.
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Debian builds abseil with the mutex deadlock detector on: a lock-order graph
  // updated on every lock of gRPC's mutexes (1-2% of a busy server's CPU).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  std::string path = "config/" + service + ".yaml";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      path = arg.substr(9);
    } else if (arg == "--help" || arg == "-h") {
      std::cout << "usage: " << service << " [--config FILE]\n"
                << "Every config key can be overridden by ATES_<KEY> (dots as underscores).\n";
      return 0;
    } else {
      std::cerr << service << ": unknown argument '" << arg << "' (see --help)\n";
      return 2;
    }
  }
  int code = 0;
  try {
    auto config = Config::FromFile(path);
    log::Init(service, config.GetString("log.level"));
    App app(service, std::move(config));
    build(app);
    code = app.Run();
  } catch (const ConfigError& e) {
    std::cerr << service << ": configuration error: " << e.what() << "\n";
    code = 2;
  } catch (const std::exception& e) {
    std::cerr << service << ": fatal: " << e.what() << "\n";
    code = 1;
  }
  // nats.c runs connection callbacks (which log) on its own thread, also after
  // the connection is closed. Wait for them while spdlog is still alive, or that
  // thread can crash the exiting process (SIGSEGV instead of exit code 0).
  nats_CloseAndWait(2000);
  return code;
}

}  // namespace ates::platform
