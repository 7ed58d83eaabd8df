#pragma once

#include <memory>

#include "ates/platform/module.hpp"
#include "connect_handler.hpp"
#include "gateway_metrics.hpp"
#include "gateway_settings.hpp"
#include "http_server.hpp"
#include "method_routes.hpp"
#include "static_files.hpp"
#include "upstreams.hpp"

namespace ates::gateway {

// ates-gateway: the browsers' door. Connect unary calls forwarded to the five
// daemons over gRPC, the session cookie, and the built web app (ADR 0024).
// Stateless: no database, no NATS.
class GatewayModule final : public platform::Module {
 public:
  void Declare(platform::ModuleBuilder& builder) override;
  std::vector<platform::ConfigKey> ConfigKeys() const override;
  bool stateless() const override { return true; }

  // Connect calls, logout, or a file of the web app.
  HttpResponse Route(const HttpRequest& request,
                     std::chrono::system_clock::time_point arrived) const;

 private:
  // The metrics label of a request path (bounded: never a raw URL).
  std::string PathLabel(const HttpRequest& request) const;

  MethodRoutes routes_;
  std::unique_ptr<Upstreams> upstreams_;
  std::unique_ptr<ConnectHandler> connect_;
  std::unique_ptr<StaticFiles> files_;
  std::unique_ptr<GatewayMetrics> metrics_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace ates::gateway
