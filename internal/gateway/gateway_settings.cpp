#include "gateway_settings.hpp"

namespace ates::gateway {
namespace {

using S = GatewaySettings;

platform::ConfigSchema<S> HttpKeys(platform::ConfigSchema<S>&& s) {
  return std::move(s)
      .Key("gateway.listen", &S::listen, "127.0.0.1:8080", "host:port of the HTTP listener")
      .Key("gateway.web_root", &S::web_root, "web/dist",
           "folder of the built web app (index.html, assets/)")
      .Key("gateway.max_body_bytes", &S::max_body_bytes, "1048576",
           "larger request bodies are refused (resource_exhausted) before any upstream call")
      .Key("gateway.default_timeout", &S::default_timeout, "10s",
           "upstream deadline of a call without Connect-Timeout-Ms")
      .Key("gateway.max_timeout", &S::max_timeout, "60s", "cap on Connect-Timeout-Ms")
      .Key("gateway.http_threads", &S::http_threads, "16", "HTTP worker threads")
      .Key("gateway.tls_cert", &S::tls_cert, "",
           "PEM holding certificate chain and key: serve HTTPS (Secure cookies); \"\": HTTP");
}

platform::ConfigSchema<S> UpstreamKeys(platform::ConfigSchema<S>&& s) {
  return std::move(s)
      .Key("gateway.upstreams.auth", &S::auth_upstream, "127.0.0.1:50051", "ates-auth host:port")
      .Key("gateway.upstreams.tasks", &S::tasks_upstream, "127.0.0.1:50052", "ates-tasks host:port")
      .Key("gateway.upstreams.billing", &S::billing_upstream, "127.0.0.1:50053",
           "ates-billing host:port")
      .Key("gateway.upstreams.analytics", &S::analytics_upstream, "127.0.0.1:50054",
           "ates-analytics host:port")
      .Key("gateway.upstreams.scheduler", &S::scheduler_upstream, "127.0.0.1:50055",
           "ates-scheduler host:port")
      .Listed({"gateway.upstream_tls.ca", "string", "",
               "CA of the daemons' certificates; empty: plaintext"})
      .Listed({"gateway.upstream_tls.cert", "string", "", "client certificate for mTLS"})
      .Listed({"gateway.upstream_tls.key", "string", "", "its private key"})
      .Listed({"gateway.upstream_tls.server_name", "string", "",
               "name expected in the daemons' certificates"});
}

}  // namespace

const platform::ConfigSchema<GatewaySettings>& GatewaySettings::Schema() {
  static const auto schema = UpstreamKeys(HttpKeys(platform::ConfigSchema<S>()));
  return schema;
}

}  // namespace ates::gateway
