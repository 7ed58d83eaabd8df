#include "ates/platform/runtime.hpp"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <iostream>
#include <thread>

#include "ates/platform/auth_keys.hpp"
#include "ates/platform/consumer_gauges.hpp"
#include "ates/platform/dead_letter_service.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/metrics_interceptor.hpp"
#include "ates/platform/scrape_metrics.hpp"
#include "ates/platform/tls.hpp"
#include "ates/platform/trace_interceptor.hpp"
#include "grpc/health/v1/health.pb.h"

namespace ates::platform {
namespace {

constexpr std::chrono::milliseconds kRetryPause{500};
// How often the consumers' backlog gauges are refreshed.
constexpr std::chrono::seconds kPendingRefresh{5};
constexpr std::chrono::seconds kDeadLetterRefresh{15};

pg::PoolOptions PoolOptionsOf(const RuntimeSettings& s) {
  pg::PoolOptions po;
  po.acquire_timeout = s.acquire_timeout;
  po.connection.connect_timeout = s.connect_timeout;
  po.connection.statement_timeout = s.statement_timeout;
  po.connection.lock_timeout = s.lock_timeout;
  po.connection.idle_in_transaction_timeout = s.idle_in_transaction_timeout;
  po.connection.keepalives_idle = s.keepalives_idle;
  po.connection.keepalives_interval = s.keepalives_interval;
  po.connection.keepalives_count = s.keepalives_count;
  po.connection.tcp_user_timeout = s.tcp_user_timeout;
  return po;
}

RelayOptions RelayOptionsOf(const RuntimeSettings& s, const std::string& service,
                            const pg::ConnectionOptions& connection) {
  RelayOptions ro;
  ro.producer = service;
  ro.batch_size = s.outbox_batch_size;
  ro.poll_interval = s.outbox_poll_interval;
  ro.retention = s.outbox_retention;
  ro.leader_timeout = s.outbox_leader_timeout;
  if (ro.leader_timeout < std::chrono::seconds(1)) {
    throw ConfigError("config key 'outbox.leader_timeout' must be at least 1s (got " +
                      std::to_string(ro.leader_timeout.count()) + "ms)");
  }
  ro.connection = connection;
  return ro;
}

std::vector<StreamSpec> StreamsOf(const RuntimeSettings& s) {
  StreamSpec stream;
  stream.duplicate_window = s.duplicate_window;
  stream.replicas = s.stream_replicas;
  stream.max_age = s.stream_max_age;
  stream.max_bytes = s.stream_max_bytes;
  return SystemStreams(stream);
}

// Strips an optional scheme so both "host:port" and "http://host:port" work.
std::string GrpcTarget(std::string url) {
  for (const char* scheme : {"http://", "grpc://", "dns:///"}) {
    if (url.rfind(scheme, 0) == 0) return url.substr(std::strlen(scheme));
  }
  return url;
}

// Runs `step` until it succeeds; false when stop was requested first. A
// ConfigError is not retried: it is the operator's to fix.
bool RetryUntilDone(Worker& worker, const char* warning, int log_every,
                    const std::function<void()>& step) {
  for (int attempt = 1;; ++attempt) {
    try {
      step();
      return true;
    } catch (const ConfigError&) {
      throw;
    } catch (const std::exception& e) {
      if (attempt == 1 || attempt % log_every == 0) log::Warn(warning, {{"error", e.what()}});
    }
    if (!worker.SleepFor(kRetryPause)) return false;
  }
}

// Milliseconds since `since`, which moves to now.
std::string Lap(std::chrono::steady_clock::time_point& since) {
  auto now = std::chrono::steady_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count();
  since = now;
  return std::to_string(ms);
}

int WaitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace

Runtime::Runtime(std::string service, Config config, bool stateless)
    : service_(std::move(service)),
      stateless_(stateless),
      config_(std::move(config)),
      settings_(RuntimeSettings::Schema(stateless).Read(config_)) {
  verifier_ = std::make_unique<auth::TokenVerifier>(settings_.issuer, settings_.audience);
  verifier_->SetRetiredKeyGrace(settings_.retired_key_grace);
  authenticator_ = std::make_unique<Authenticator>(*verifier_);
  admission_ = std::make_unique<CallAdmission>(policies_, *authenticator_);
  for (const auto& policy : PlatformServicePolicies()) policies_.Add(policy);
  metrics_.AddCollectable(BuildInfo(service_));
  metrics_.AddCollectable(ProcessMetrics());
  keys_ = std::make_unique<KeyRefresher>(*verifier_, settings_.keys_refresh);
  authenticator_->SetKeyRefresh([this] { keys_->Refresh(); });
  if (!stateless_) BuildStatefulParts();
}

void Runtime::BuildStatefulParts() {
  auto po = PoolOptionsOf(settings_);
  db_ = std::make_unique<pg::Pool>(settings_.database_url, settings_.pool_size, po);
  metrics_.AddCollectable(PoolMetrics(*db_));
  nats_ = std::make_unique<JetStream>(settings_.nats_url, service_, ReadNatsCredentials(config_));
  streams_ = StreamsOf(settings_);
  relay_ = std::make_unique<OutboxRelay>(RelayOptionsOf(settings_, service_, po.connection),
                                         db_->conninfo(), *nats_, &metrics_);
  migrations_ = pg::PlatformMigrations();
  auto keys_tls = ReadClientTls(config_, "auth.tls");
  if (!settings_.keys_url.empty()) {
    keys_->SetLoader(RemoteKeyLoader(GrpcTarget(settings_.keys_url), std::move(keys_tls)));
  }
}

void Runtime::RefuseStateful(const char* what) const {
  throw std::logic_error(service_ + " is a stateless module: it has no " + what);
}

// /metrics stops first: its collectables read the pool.
Runtime::~Runtime() { metrics_.StopServing(); }

std::vector<ConfigKey> Runtime::ConfigKeys(bool stateless) {
  return RuntimeSettings::Schema(stateless).keys();
}

void Runtime::Migrations(const std::vector<pg::Migration>& migrations) {
  if (stateless_) RefuseStateful("migrations");
  migrations_.insert(migrations_.end(), migrations.begin(), migrations.end());
}

void Runtime::Service(grpc::Service& service, const ServicePolicy& policy) {
  policies_.Add(policy);
  services_.emplace_back(&service, policy.service_name());
}

AccountStates& Runtime::RevokeTokensFrom(AccountStates::Loader loader) {
  if (stateless_) RefuseStateful("token revocation");
  account_states_ = std::make_unique<AccountStates>(std::move(loader));
  authenticator_->SetAccountStates(account_states_.get());
  OnReady([this] {
    account_states_->Refresh();  // loaded before the daemon reports ready
    account_states_->Start();
  });
  OnStop([this] { account_states_->Stop(); });
  return *account_states_;
}

void Runtime::Consume(const std::string& key, const std::string& stream, EventHandler& handler) {
  if (stateless_) RefuseStateful("consumers");
  auto settings = ConsumerSchema(key).Read(config_);
  ConsumerOptions options;
  options.name = settings.durable;
  options.stream = stream;
  options.batch_size = settings.batch_size;
  options.max_deliver = settings.max_deliver;
  AddConsumer(std::move(options), handler);
}

void Runtime::AddConsumer(ConsumerOptions options, EventHandler& handler) {
  options.inbox_retention = settings_.inbox_retention;
  if (!dead_letters_) {
    // A daemon that consumes events shows its dead letters and replays them.
    dead_letters_ =
        std::make_unique<DeadLetterGrpcService>(*db_, [this](const std::string& name) -> Consumer* {
          for (auto& c : consumers_) {
            if (c->name() == name) return c.get();
          }
          return nullptr;
        });
    Service(*dead_letters_, DeadLetterGrpcService::Policy());
  }
  consumers_.push_back(
      std::make_unique<Consumer>(std::move(options), *nats_, *db_, handler, &metrics_));
}

void Runtime::VerificationKeys(KeyRefresher::Loader loader) { keys_->SetLoader(std::move(loader)); }

void Runtime::Background(std::string name, Worker::Body body) {
  backgrounds_.emplace_back(std::move(name), std::move(body));
}

void Runtime::RequestStop() { kill(getpid(), SIGTERM); }

int Runtime::Run() {
  if (!Listen()) return 1;
  startup_ =
      std::make_unique<Worker>("startup", [this](Worker& w, std::stop_token s) { StartUp(w, s); });
  int sig = WaitForStopSignal();
  log::Info("stopping", {{"signal", strsignal(sig)}});
  ShutDown();
  return exit_code_;
}

std::unique_ptr<grpc::Server> Runtime::BuildServer(
    const std::shared_ptr<grpc::ServerCredentials>& credentials, int& port) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Link the health schema so reflection can describe grpc.health.v1.Health.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();

  grpc::ServerBuilder builder;
  builder.AddListeningPort(settings_.grpc_listen, credentials, &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(settings_.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(settings_.max_message_bytes));
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 32);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(calls_in_flight_.InterceptorFactory());  // every call, for StopServer
  // Trace next: whatever the others log carries the call's trace id.
  interceptors.push_back(TraceInterceptorFactory());
  // Admission next: the metrics see the status it sets for unparsable requests.
  interceptors.push_back(admission_->InterceptorFactory());
  interceptors.push_back(MetricsInterceptorFactory(metrics_));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  for (auto& [svc, name] : services_) builder.RegisterService(svc);
  return builder.BuildAndStart();
}

// Phase "serving": the server answers (health NOT ready) before the database
// does, so probes and clients see a live daemon that is starting.
bool Runtime::Listen() {
  auto credentials = ServerCredentials(ReadServerTls(config_));
  // Every part has read its keys by now: what is left is unknown (exit 2).
  config_.CheckNoUnknownKeys();
  metrics_.Serve(settings_.admin_listen);
  int port = 0;
  server_ = BuildServer(credentials, port);
  if (!server_ || port == 0) {
    log::Error("cannot listen", {{"grpc", settings_.grpc_listen}});
    return false;
  }
  const auto& listen = settings_.grpc_listen;
  bound_address_ = listen.substr(0, listen.rfind(':') + 1) + std::to_string(port);
  auto* health = server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus("liveness", true);
  health->SetServingStatus(kEventsHealth, false);
  SetReady(false);
  log::Info("listening", {{"grpc", bound_address_}, {"admin", settings_.admin_listen}});
  return true;
}

void Runtime::StartUp(Worker& worker, std::stop_token /*stop*/) {
  try {
    // Retry until the database is there: a daemon may start before PostgreSQL.
    if (!stateless_ && !RetryUntilDone(worker, "database not ready, retrying", 10,
                                       [this] { pg::Migrate(*db_, migrations_); })) {
      return;
    }
    for (const auto& step : on_ready_) {
      if (!RetryUntilDone(worker, "start-up step failed, retrying", 10, step)) return;
    }
  } catch (const ConfigError& e) {
    log::Error("configuration error", {{"error", e.what()}});
    std::cerr << service_ << ": configuration error: " << e.what() << "\n";
    exit_code_ = 2;
    RequestStop();
    return;
  }
  if (stopping_) return;
  StartEventsAndWorkers();
}

void Runtime::StartEventsAndWorkers() {
  if (stateless_) {
    ReportReadiness();
    StartWorker("readiness", [this](Worker& w, std::stop_token s) { WatchReadiness(w, s); });
    for (auto& [name, body] : backgrounds_) StartWorker(name, body);
    return;
  }
  // Events flow whether or not ates-auth is up: the relay and consumers need
  // no token. Only RPCs that need one wait for the keys (UNAVAILABLE until then).
  relay_->Start();
  for (auto& c : consumers_) c->Start();
  log::Info("relay and consumers started", {{"consumers", std::to_string(consumers_.size())}});
  keys_->Refresh();
  ReportReadiness();
  if (!keys_->HaveKeys()) {
    log::Warn(
        "not ready until token verification keys load (RPCs that need a token answer"
        " UNAVAILABLE)",
        {{"keys_url", settings_.keys_url}});
  }
  // Streams are created when NATS answers; the relay and consumers retry until then.
  StartWorker("streams", [this](Worker& w, std::stop_token s) { EnsureStreams(w, s); });
  keys_->Start();
  StartWorker("readiness", [this](Worker& w, std::stop_token s) { WatchReadiness(w, s); });
  StartConsumerGauges();
  for (auto& [name, body] : backgrounds_) StartWorker(name, body);
}

void Runtime::StartConsumerGauges() {
  if (consumers_.empty()) return;
  std::vector<const Consumer*> consumers;
  for (const auto& c : consumers_) consumers.push_back(c.get());
  consumer_gauges_ = std::make_unique<ConsumerGauges>(std::move(consumers), *nats_, *db_, metrics_);
  StartWorker("pending-gauges", [this](Worker& w, std::stop_token) {
    consumer_gauges_->RefreshPending(w, kPendingRefresh);
  });
  StartWorker("dead-letter-gauge", [this](Worker& w, std::stop_token) {
    consumer_gauges_->RefreshDeadLetters(w, kDeadLetterRefresh);
  });
}

void Runtime::StartWorker(std::string name, Worker::Body body) {
  absl::MutexLock lock(&workers_mu_);
  workers_.push_back(std::make_unique<Worker>(std::move(name), std::move(body)));
}

void Runtime::EnsureStreams(Worker& worker, std::stop_token /*stop*/) {
  RetryUntilDone(worker, "cannot ensure streams yet", 20,
                 [this] { nats_->EnsureStreams(streams_); });
}

void Runtime::WatchReadiness(Worker& worker, std::stop_token /*stop*/) {
  while (worker.SleepFor(std::chrono::milliseconds(100))) ReportReadiness();
}

void Runtime::SetReady(bool ready) {
  absl::MutexLock lock(&health_mu_);
  if (ready && stopping_) return;
  ready_ = ready;
  auto* health = server_->GetHealthCheckService();
  health->SetServingStatus("readiness", ready);
  for (const auto& [svc, name] : services_) health->SetServingStatus(name, ready);
}

void Runtime::ReportReadiness() {
  if (stopping_) return;
  // Not ready while a consumer waits for the database: it applies nothing, and
  // the RPCs that read or write it would fail too.
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
  // Nor before the first verification keys: every RPC that needs a token would
  // answer UNAVAILABLE. The relay and consumers run all the same.
  bool ready = (stateless_ || keys_->HaveKeys()) && database_ok;
  {
    absl::MutexLock lock(&health_mu_);
    if (ready == ready_) return;
  }
  SetReady(ready);
  if (ready) log::Info("ready", {{"grpc", bound_address_}, {"admin", settings_.admin_listen}});
}

// NOT_SERVING -> drain delay (still serving) -> drain calls in flight ->
// consumers -> relay -> OnStop steps -> workers.
void Runtime::ShutDown() {
  {
    absl::MutexLock lock(&health_mu_);
    stopping_ = true;
  }
  auto* health = server_->GetHealthCheckService();
  health->SetServingStatus("", false);
  health->SetServingStatus(kEventsHealth, false);
  SetReady(false);
  WaitDrainDelay();
  // Each phase's duration goes into the "stopped" line: a slow stop shows where.
  auto since = std::chrono::steady_clock::now();
  StopServer(*server_, calls_in_flight_, settings_.shutdown_grace);
  const auto server_ms = Lap(since);
  startup_.reset();  // an unfinished phase ends at its next retry pause
  for (auto& c : consumers_) c->Stop();
  const auto consumers_ms = Lap(since);
  if (relay_) relay_->Stop();
  const auto relay_ms = Lap(since);
  for (auto it = on_stop_.rbegin(); it != on_stop_.rend(); ++it) (*it)();
  keys_->Stop();
  const auto on_stop_ms = Lap(since);
  std::vector<std::unique_ptr<Worker>> workers;
  {
    absl::MutexLock lock(&workers_mu_);
    workers.swap(workers_);
  }
  while (!workers.empty()) workers.pop_back();  // in reverse order of start
  server_.reset();                              // before the module's services go
  log::Info("stopped", {{"server_ms", server_ms},
                        {"consumers_ms", consumers_ms},
                        {"relay_ms", relay_ms},
                        {"on_stop_ms", on_stop_ms},
                        {"workers_ms", Lap(since)}});
}

// Load balancers and Kubernetes endpoints take a while to see NOT_SERVING:
// until then new calls still arrive, and they are served (ADR 32).
void Runtime::WaitDrainDelay() {
  if (settings_.drain_delay.count() <= 0) return;
  log::Info("not serving; draining before the server stops",
            {{"drain_delay_ms", std::to_string(settings_.drain_delay.count())}});
  std::this_thread::sleep_for(settings_.drain_delay);
}

}  // namespace ates::platform
