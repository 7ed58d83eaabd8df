#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ates/platform/account_states.hpp"
#include "ates/platform/config_schema.hpp"
#include "ates/platform/consumer.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/key_refresh.hpp"
#include "ates/platform/metrics.hpp"
#include "ates/platform/outbox.hpp"
#include "ates/platform/pg.hpp"
#include "ates/platform/policy.hpp"
#include "ates/platform/token.hpp"
#include "ates/platform/worker.hpp"

namespace grpc {
class Service;
}

namespace ates::platform {

// What a service module declares to the runtime. The runtime owns start-up
// (config -> migrations -> OnReady steps -> relay and consumers -> workers ->
// ready), the threads and the shutdown order (ADR 0018); a module only says
// what it is made of.
class ModuleBuilder {
 public:
  virtual ~ModuleBuilder() = default;

  virtual const std::string& service() const = 0;
  // The module's typed config section; its keys count as known.
  template <class T>
  T Settings(const ConfigSchema<T>& schema) {
    return schema.Read(config());
  }
  virtual Config& config() = 0;
  virtual pg::Pool& db() = 0;
  virtual JetStream& nats() = 0;
  virtual Metrics& metrics() = 0;
  virtual OutboxRelay& relay() = 0;
  virtual auth::TokenVerifier& verifier() = 0;

  // Applied in declaration order, after the platform's own.
  virtual void Migrations(const std::vector<pg::Migration>& migrations) = 0;
  // Served under `policy`; a method without an entry refuses start-up (exit 2).
  virtual void Service(grpc::Service& service, const ServicePolicy& policy) = 0;
  // A durable consumer of `stream` configured by consumers.<key>.*.
  virtual void Consume(const std::string& key, const std::string& stream,
                       EventHandler& handler) = 0;
  // Tokens of accounts that `loader` shows deactivated or changed are refused
  // (ADR 0017): ates-auth's own accounts, or every other daemon's
  // accounts_replica (contracts::AccountsReplica). Returns the view, e.g. to
  // Refresh() or Poke() it after a change.
  virtual AccountStates& RevokeTokensFrom(AccountStates::Loader loader) = 0;
  // Where verification keys come from; by default GetPublicKeys of auth.keys_url.
  virtual void VerificationKeys(KeyRefresher::Loader loader) = 0;
  // Runs once the database is migrated, before events flow and the daemon
  // reports ready; a step that throws is retried, a ConfigError exits 2.
  virtual void OnReady(std::function<void()> step) = 0;
  // Runs at shutdown after consumers and the relay stopped (reverse order).
  virtual void OnStop(std::function<void()> step) = 0;
  // A background loop started after the OnReady steps, stopped at shutdown.
  virtual void Background(std::string name, Worker::Body body) = 0;
};

// One service: builds the parts it owns and declares them. Parts live as the
// module's members, so lambdas capture `this`, never a local.
class Module {
 public:
  virtual ~Module() = default;
  virtual void Declare(ModuleBuilder& builder) = 0;
  // The module's own config keys, for --print-config.
  virtual std::vector<ConfigKey> ConfigKeys() const = 0;
  // True for a module that keeps no state (the gateway): the runtime then
  // creates no database pool, NATS connection, relay, consumers or token
  // verification keys, reads none of their config keys, and reports ready once
  // the OnReady steps ran. db(), nats(), relay(), Migrations(), Consume() and
  // RevokeTokensFrom() are then programming errors (std::logic_error).
  virtual bool stateless() const { return false; }
};

}  // namespace ates::platform
