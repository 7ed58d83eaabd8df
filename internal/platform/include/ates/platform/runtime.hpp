#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ates/platform/authenticator.hpp"
#include "ates/platform/call_admission.hpp"
#include "ates/platform/module.hpp"
#include "ates/platform/runtime_settings.hpp"
#include "ates/platform/server_stop.hpp"

namespace ates::platform {

class ConsumerGauges;
class DeadLetterGrpcService;

// The daemon runtime: database pool, NATS, outbox relay, consumers, token
// verification, gRPC server with health, reflection and metrics, built from
// the config; a Module declares its parts into it. Run() owns the phases
// (serving NOT ready -> migrations -> OnReady steps -> relay and consumers ->
// workers -> ready) and the shutdown order (ADR 0018); every background loop
// is a Worker (ADR 0019).
class Runtime final : public ModuleBuilder {
 public:
  // `stateless`: no database, NATS, relay, consumers or token keys
  // (Module::stateless()).
  Runtime(std::string service, Config config, bool stateless = false);
  ~Runtime() override;

  // The runtime's own config keys, for --print-config.
  static std::vector<ConfigKey> ConfigKeys(bool stateless = false);

  const std::string& service() const override { return service_; }
  Config& config() override { return config_; }
  pg::Pool& db() override { return Stateful(db_, "a database"); }
  JetStream& nats() override { return Stateful(nats_, "NATS"); }
  Metrics& metrics() override { return metrics_; }
  OutboxRelay& relay() override { return Stateful(relay_, "an outbox relay"); }
  auth::TokenVerifier& verifier() override { return *verifier_; }

  void Migrations(const std::vector<pg::Migration>& migrations) override;
  void Service(grpc::Service& service, const ServicePolicy& policy) override;
  void Consume(const std::string& key, const std::string& stream, EventHandler& handler) override;
  AccountStates& RevokeTokensFrom(AccountStates::Loader loader) override;
  void VerificationKeys(KeyRefresher::Loader loader) override;
  void OnReady(std::function<void()> step) override { on_ready_.push_back(std::move(step)); }
  void OnStop(std::function<void()> step) override { on_stop_.push_back(std::move(step)); }
  void Background(std::string name, Worker::Body body) override;

  // Serves until SIGINT/SIGTERM, then shuts down in order. Returns the exit code.
  int Run();
  // Stops Run() as a signal would (a start-up step's ConfigError, tests).
  void RequestStop();

 private:
  // The part, or std::logic_error when a stateless module asks for it.
  template <class T>
  T& Stateful(const std::unique_ptr<T>& part, const char* what) const {
    if (!part) RefuseStateful(what);
    return *part;
  }
  [[noreturn]] void RefuseStateful(const char* what) const;
  void BuildStatefulParts();
  void AddConsumer(ConsumerOptions options, EventHandler& handler);
  std::unique_ptr<grpc::Server> BuildServer(
      const std::shared_ptr<grpc::ServerCredentials>& credentials, int& port);
  bool Listen();
  // The "startup" worker: migrations, OnReady steps, then events and workers.
  void StartUp(Worker& worker, std::stop_token stop);
  void StartEventsAndWorkers();
  void StartWorker(std::string name, Worker::Body body);
  // The consumers' backlog gauges' workers (consumer_gauges.hpp).
  void StartConsumerGauges();
  void EnsureStreams(Worker& worker, std::stop_token stop);
  void WatchReadiness(Worker& worker, std::stop_token stop);
  void ShutDown();
  // Sleeps server.drain_delay (health already NOT_SERVING, calls still served).
  void WaitDrainDelay();
  void SetReady(bool ready);
  // Readiness (verification keys loaded, no consumer waiting for the
  // database) and the "events" health service from the consumers' state.
  void ReportReadiness();
  static constexpr const char* kEventsHealth = "events";

  std::string service_;
  bool stateless_ = false;
  Config config_;
  RuntimeSettings settings_;
  Metrics metrics_;
  std::unique_ptr<pg::Pool> db_;
  std::unique_ptr<JetStream> nats_;
  std::unique_ptr<OutboxRelay> relay_;
  std::unique_ptr<auth::TokenVerifier> verifier_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<KeyRefresher> keys_;
  PolicyTable policies_;
  std::unique_ptr<CallAdmission> admission_;
  std::unique_ptr<AccountStates> account_states_;
  std::vector<pg::Migration> migrations_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  std::vector<std::unique_ptr<Consumer>> consumers_;
  std::unique_ptr<DeadLetterGrpcService> dead_letters_;
  std::unique_ptr<ConsumerGauges> consumer_gauges_;
  std::vector<std::function<void()>> on_ready_;
  std::vector<std::function<void()>> on_stop_;
  std::vector<std::pair<std::string, Worker::Body>> backgrounds_;
  std::vector<StreamSpec> streams_;
  CallsInFlight calls_in_flight_;  // outlives server_
  std::unique_ptr<grpc::Server> server_;
  std::string bound_address_;
  std::atomic<int> exit_code_{0};
  std::atomic<bool> stopping_{false};
  // Readiness is flipped by the readiness worker and by shutdown; once
  // stopping_ is set under health_mu_, nothing reports ready again.
  absl::Mutex health_mu_;
  bool ready_ ABSL_GUARDED_BY(health_mu_) = false;
  bool events_ok_ = false;  // the readiness worker's

  // Started by the startup worker, stopped by Run() once it joined that worker.
  absl::Mutex workers_mu_;
  std::vector<std::unique_ptr<Worker>> workers_ ABSL_GUARDED_BY(workers_mu_);
  std::unique_ptr<Worker> startup_;  // Run()'s own
};

}  // namespace ates::platform
