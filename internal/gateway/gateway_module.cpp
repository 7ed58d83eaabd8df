#include "gateway_module.hpp"

#include "ates/platform/log.hpp"
#include "ates/platform/tls.hpp"

namespace ates::gateway {
namespace {

constexpr const char* kLogoutPath = "/session/logout";

std::vector<std::string> UpstreamTargets(const GatewaySettings& s) {
  return {s.auth_upstream, s.tasks_upstream, s.billing_upstream, s.analytics_upstream,
          s.scheduler_upstream};
}

}  // namespace

std::vector<platform::ConfigKey> GatewayModule::ConfigKeys() const {
  return GatewaySettings::Schema().keys();
}

void GatewayModule::Declare(platform::ModuleBuilder& builder) {
  auto s = builder.Settings(GatewaySettings::Schema());
  auto tls = platform::ReadClientTls(builder.config(), "gateway.upstream_tls");
  upstreams_ = std::make_unique<Upstreams>(UpstreamTargets(s), tls);
  ConnectLimits limits{static_cast<size_t>(s.max_body_bytes), s.default_timeout, s.max_timeout,
                       s.serves_tls()};
  connect_ = std::make_unique<ConnectHandler>(routes_, *upstreams_, limits);
  files_ = std::make_unique<StaticFiles>(s.web_root);
  metrics_ = std::make_unique<GatewayMetrics>(builder.metrics().registry());
  HttpServer::Options options{s.listen, s.tls_cert, s.http_threads, limits.max_body_bytes};
  server_ = std::make_unique<HttpServer>(
      options, [this](const HttpRequest& r, auto arrived) { return Route(r, arrived); },
      [this](const HttpRequest& r, const HttpResponse& answer, auto took) {
        std::string code =
            answer.connect_code.empty() ? std::to_string(answer.status) : answer.connect_code;
        metrics_->Observe(PathLabel(r), code, took);
      });
  // Serving HTTP is what "ready" means here; a port taken is the operator's to fix.
  builder.OnReady([this, listen = s.listen, root = s.web_root] {
    try {
      server_->Start();
    } catch (const std::exception& e) {
      throw platform::ConfigError(std::string(e.what()) + " (gateway.listen)");
    }
    log::Info("http listening",
              {{"http", listen}, {"port", std::to_string(server_->port())}, {"web_root", root}});
  });
  builder.OnStop([this] { server_->Stop(); });
}

HttpResponse GatewayModule::Route(const HttpRequest& request,
                                  std::chrono::system_clock::time_point arrived) const {
  if (request.path == kLogoutPath && request.method == "POST") return connect_->Logout();
  if (request.method == "POST" || routes_.Find(request.path) != nullptr) {
    return connect_->Handle(request, arrived);
  }
  if (request.method == "GET" || request.method == "HEAD") return files_->Serve(request);
  HttpResponse r;
  r.status = 405;
  r.SetHeader("Allow", "GET, HEAD, POST");
  return r;
}

std::string GatewayModule::PathLabel(const HttpRequest& request) const {
  if (routes_.Find(request.path) != nullptr || request.path == kLogoutPath) return request.path;
  if (request.method == "GET" || request.method == "HEAD") return "static";
  return "other";
}

}  // namespace ates::gateway
