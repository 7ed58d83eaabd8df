#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ates/platform/account_states.hpp"
#include "ates/platform/authenticator.hpp"
#include "ates/platform/call_admission.hpp"
#include "ates/platform/config.hpp"
#include "ates/platform/consumer.hpp"
#include "ates/platform/error.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/metrics.hpp"
#include "ates/platform/outbox.hpp"
#include "ates/platform/pg.hpp"
#include "ates/platform/policy.hpp"
#include "ates/platform/token.hpp"

namespace ates::platform {

class DeadLetterGrpcService;

// Maps a domain error to its gRPC status; INVALID_ARGUMENT carries a
// google.rpc.BadRequest naming the fields.
grpc::Status ToStatus(const ates::Error& error);

// Runs an RPC body and turns whatever it throws into a status. With the
// call's context, the body runs only when CallAdmission admitted the call
// (policy table, token, input), and gets the caller's principal when it takes
// one (`[&](const auth::Principal& who) {...}`); its database work stops at
// the caller's deadline (pg::CallDeadline): no connection wait or retry
// outlives the caller.
template <class Fn>
grpc::Status Handle(const grpc::ServerContext& ctx, Fn&& fn);
template <class Fn>
grpc::Status Handle(Fn&& fn);

// Everything a daemon is made of, built from its config: database pool,
// migrations, NATS, outbox relay, consumers, token verification, gRPC server
// with health and reflection, metrics. main() builds one, adds its parts, Run()s.
class App final {
 public:
  App(std::string service, Config config);
  ~App();

  const std::string& service() const { return service_; }
  Config& config() { return config_; }
  pg::Pool& db() { return *db_; }
  JetStream& nats() { return *nats_; }
  Metrics& metrics() { return metrics_; }
  OutboxRelay& relay() { return *relay_; }
  auth::TokenVerifier& verifier() { return *verifier_; }
  Authenticator& authenticator() { return *authenticator_; }

  void AddMigrations(const std::vector<pg::Migration>& migrations);
  // Serves `service` under `policy` (its generated descriptor's methods, each
  // with who may call it). An incomplete policy is a ConfigError (exit 2).
  void AddService(grpc::Service* service, const ServicePolicy& policy);
  // Refuses tokens of deactivated or changed accounts, as `loader` reads them
  // (accounts_replica by default: ReplicaAccountLoader). Returns the view, so a
  // replica handler can Poke() it after a commit.
  AccountStates& EnableRevocation(AccountStates::Loader loader);
  void AddConsumer(ConsumerOptions options, EventHandler& handler);
  // Runs once the database is migrated, before the daemon reports ready. A
  // step that throws is retried, except a ConfigError, which stops the daemon
  // with exit code 2.
  void OnReady(std::function<void()> fn) { on_ready_.push_back(std::move(fn)); }
  // Runs at shutdown after the gRPC server drained, before consumers and the
  // relay stop (in reverse order of registration).
  void OnStop(std::function<void()> fn) { on_stop_.push_back(std::move(fn)); }
  // Where verification keys come from; by default GetPublicKeys of ates-auth.
  void SetKeyLoader(std::function<std::map<std::string, std::array<unsigned char, 32>>()> loader);

  // Serves until SIGINT/SIGTERM, then NOT_SERVING, drains and stops. Returns the exit code.
  int Run();
  // Stops Run() as a signal would (tests, embedded use).
  void RequestStop();

 private:
  void Initialize();
  void RefreshKeys();
  void SetReady(bool ready);
  // Readiness (verification keys loaded, no consumer waiting for the
  // database) and the "events" health service from the consumers' state.
  void ReportReadiness();
  static constexpr const char* kEventsHealth = "events";

  std::string service_;
  Config config_;
  Metrics metrics_;
  std::unique_ptr<pg::Pool> db_;
  std::unique_ptr<JetStream> nats_;
  std::unique_ptr<OutboxRelay> relay_;
  std::unique_ptr<auth::TokenVerifier> verifier_;
  std::unique_ptr<Authenticator> authenticator_;
  PolicyTable policies_;
  std::unique_ptr<CallAdmission> admission_;
  std::unique_ptr<AccountStates> account_states_;
  std::vector<pg::Migration> migrations_;
  std::vector<std::pair<grpc::Service*, std::string>> services_;
  std::vector<std::unique_ptr<Consumer>> consumers_;
  std::unique_ptr<DeadLetterGrpcService> dead_letters_;
  std::vector<std::function<void()>> on_ready_;
  std::vector<std::function<void()>> on_stop_;
  std::atomic<int> exit_code_{0};
  std::function<std::map<std::string, std::array<unsigned char, 32>>()> key_loader_;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ready_{false};
  bool events_ok_ = false;  // the Initialize thread's
  std::mutex keys_mu_;
  int key_failures_ = 0;  // consecutive failed key loads (guarded by keys_mu_)

  std::string grpc_listen_;
  std::string admin_listen_;
  int64_t max_message_bytes_;
  std::chrono::milliseconds shutdown_grace_;
  std::chrono::milliseconds key_refresh_;
  std::string keys_url_;
  std::vector<StreamSpec> streams_;
  std::chrono::milliseconds inbox_retention_{0};
  std::string bound_address_;
};

// main() of every daemon: blocks signals before any thread starts, loads
// --config, builds the App through `build`, runs it. Exit 2 on bad config.
int RunDaemon(const std::string& service, int argc, char** argv,
              const std::function<void(App&)>& build);

// ---- implementation of the template ----
// UNAVAILABLE for a transient database failure (lost connection, no free
// pooled connection, lock wait timed out), DEADLINE_EXCEEDED when a statement
// or the caller's deadline ran out, INTERNAL for anything else.
grpc::Status DatabaseStatus(const pg::PgError& error);
grpc::Status InternalStatus(const std::exception& error);
// The caller's deadline on the steady clock; none when the call has none.
std::optional<std::chrono::steady_clock::time_point> DeadlineOf(const grpc::ServerContext& ctx);

template <class Fn>
grpc::Status Handle(const grpc::ServerContext& ctx, Fn&& fn) {
  pg::CallDeadline deadline(DeadlineOf(ctx));
  return Handle([&] {
    auth::Principal who = AdmittedPrincipal(ctx);
    if constexpr (std::is_invocable_v<Fn, const auth::Principal&>) {
      fn(who);
    } else {
      fn();
    }
  });
}

template <class Fn>
grpc::Status Handle(Fn&& fn) {
  try {
    fn();
    return grpc::Status::OK;
  } catch (const ates::Error& e) {
    return ToStatus(e);
  } catch (const pg::PgError& e) {
    return DatabaseStatus(e);
  } catch (const std::exception& e) {
    return InternalStatus(e);
  }
}

}  // namespace ates::platform
