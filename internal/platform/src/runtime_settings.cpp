#include "ates/platform/runtime_settings.hpp"

namespace ates::platform {
namespace {

using S = RuntimeSettings;

ConfigSchema<S> ListenerKeys(ConfigSchema<S>&& s) {
  return std::move(s)
      .Required("log.level", &S::log_level, "trace, debug, info, warn or error")
      .Required("grpc.listen", &S::grpc_listen, "host:port of the gRPC server (port 0: any)")
      .Required("admin.listen", &S::admin_listen, "host:port of Prometheus /metrics; \"\": off")
      .Required("grpc.max_message_bytes", &S::max_message_bytes, "largest request or answer")
      .Required("grpc.shutdown_grace", &S::shutdown_grace,
                "how long calls in flight may finish after SIGTERM")
      .Key("server.drain_delay", &S::drain_delay, "0s",
           "after SIGTERM, health is NOT_SERVING but calls are still served this long")
      .Listed({"grpc.tls.cert", "string", "", "server certificate chain (PEM); empty: plaintext"})
      .Listed({"grpc.tls.key", "string", "", "its private key (PEM)"})
      .Listed({"grpc.tls.client_ca", "string", "", "set: clients need a certificate (mTLS)"})
      .Listed({"grpc.tls.reload_interval", "duration", "10s", "how often TLS files are checked"});
}

ConfigSchema<S> DatabaseKeys(ConfigSchema<S>&& s) {
  return std::move(s)
      .Required("database.url", &S::database_url, "libpq connection URI of this service's database")
      .Required("database.pool_size", &S::pool_size, "pooled connections")
      .Required("database.acquire_timeout", &S::acquire_timeout,
                "wait for a free pooled connection, then UNAVAILABLE")
      .Required("database.connect_timeout", &S::connect_timeout, "libpq, whole seconds")
      .Required("database.statement_timeout", &S::statement_timeout, "one statement; 0: none")
      .Required("database.lock_timeout", &S::lock_timeout, "one lock wait; 0: none")
      .Required("database.idle_in_transaction_timeout", &S::idle_in_transaction_timeout,
                "an open transaction left idle is ended by the server")
      .Required("database.keepalives_idle", &S::keepalives_idle, "TCP keepalive idle time")
      .Required("database.keepalives_interval", &S::keepalives_interval, "TCP keepalive interval")
      .Required("database.keepalives_count", &S::keepalives_count, "TCP keepalive probes")
      .Required("database.tcp_user_timeout", &S::tcp_user_timeout,
                "unacknowledged data drops the connection");
}

ConfigSchema<S> EventKeys(ConfigSchema<S>&& s) {
  return std::move(s)
      .Required("nats.url", &S::nats_url, "NATS servers, comma-separated")
      .Listed({"nats.user", "string", "", "this daemon's own NATS user (ADR 15)"})
      .Listed({"nats.password", "string", "", "its password (better: nats.password_file)"})
      .Listed({"nats.password_file", "string", "", "file with the password"})
      .Listed({"nats.tls_ca_file", "string", "", "PEM CA of the NATS servers: TLS"})
      .Required("nats.duplicate_window", &S::duplicate_window, "JetStream de-duplication window")
      .Required("nats.stream_replicas", &S::stream_replicas, "replicas of streams it creates")
      .Required("nats.stream_max_age", &S::stream_max_age,
                "retention of streams it creates; 0: ever")
      .Required("nats.stream_max_bytes", &S::stream_max_bytes, "size limit; -1: none")
      .Required("outbox.batch_size", &S::outbox_batch_size, "rows the relay publishes at once")
      .Required("outbox.poll_interval", &S::outbox_poll_interval, "relay poll when not notified")
      .Required("outbox.retention", &S::outbox_retention,
                "keep published rows this long for re-publishing; 0 deletes at once")
      .Required("outbox.leader_timeout", &S::outbox_leader_timeout,
                "a silent relay leader loses leadership after this (at least 1s)")
      .Key("inbox.retention", &S::inbox_retention, "0s",
           "prune processed event ids older than this");
}

ConfigSchema<S> TokenKeys(ConfigSchema<S>&& s) {
  return std::move(s)
      .Required("auth.issuer", &S::issuer, "expected token issuer")
      .Required("auth.audience", &S::audience, "expected token audience")
      .Key("auth.keys_url", &S::keys_url, "", "ates-auth host:port for GetPublicKeys")
      .Key("auth.keys_refresh", &S::keys_refresh, "1m", "how often verification keys reload")
      .Key("auth.retired_key_grace", &S::retired_key_grace, "10m",
           "a key gone from ates-auth's answer still verifies this long")
      .Listed({"auth.tls.ca", "string", "", "CA of ates-auth's certificate; empty: plaintext"})
      .Listed({"auth.tls.cert", "string", "", "client certificate when ates-auth wants mTLS"})
      .Listed({"auth.tls.key", "string", "", "its private key"})
      .Listed({"auth.tls.server_name", "string", "", "name in ates-auth's certificate"});
}

}  // namespace

const ConfigSchema<RuntimeSettings>& RuntimeSettings::Schema(bool stateless) {
  static const ConfigSchema<S> schema =
      TokenKeys(EventKeys(DatabaseKeys(ListenerKeys(ConfigSchema<S>()))));
  // A stateless daemon (the gateway) has no database, NATS or token keys.
  static const ConfigSchema<S> stateless_schema = ListenerKeys(ConfigSchema<S>());
  return stateless ? stateless_schema : schema;
}

}  // namespace ates::platform
