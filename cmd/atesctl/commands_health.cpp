// health: grpc.health.v1 of one daemon, over the same TLS as every call. The
// Kubernetes TLS overlay probes with it, as kubelet's own gRPC probe speaks
// only plaintext (ADR 0014).

#include <iostream>

#include "commands.hpp"
#include "grpc/health/v1/health.grpc.pb.h"

namespace ates::ctl {
namespace {

Service ServiceNamed(const std::string& name) {
  for (const auto& info : kServices) {
    if (name == info.name) return info.service;
  }
  throw UsageError("unknown service '" + name + "' (auth, tasks, billing, analytics, scheduler)");
}

int Health(Session& session, const ParsedArgs& args) {
  Service service = ServiceNamed(args.Positional(0));
  std::string check =
      OneOf("--check", args.Get("check", "readiness"), {"readiness", "liveness", "overall"});
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(check == "overall" ? "" : check);
  grpc::health::v1::HealthCheckResponse resp;
  auto stub = grpc::health::v1::Health::NewStub(session.Channel(service));
  session.Call(
      service, [&](grpc::ClientContext* ctx) { return stub->Check(ctx, req, &resp); }, false);
  bool serving = resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  std::cout << (serving ? "SERVING" : "NOT_SERVING") << "\n" << std::flush;
  return serving ? kExitOk : kExitUnavailable;
}

}  // namespace

std::vector<Command> HealthCommands() {
  return {{{.path = {"health"},
            .summary = "Check a daemon's gRPC health (no login needed).",
            .flags = {{"check", '\0', "NAME", "readiness (default), liveness or overall"}},
            .positionals = {{"SERVICE", true, "auth, tasks, billing, analytics or scheduler"}},
            .example = "atesctl --tls-ca ca.pem health tasks --check liveness",
            .details = "Exit code 0 when SERVING, 6 when not serving or unreachable."},
           Health}};
}

}  // namespace ates::ctl
