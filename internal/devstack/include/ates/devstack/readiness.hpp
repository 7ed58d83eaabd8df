#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace ates::devstack {

// True when something accepts TCP connections on host:port.
bool Accepts(const std::string& target);
// The grpc.health.v1 status of `service` ("" / "liveness" / "readiness"), or
// -1 when the daemon does not answer within 500 ms.
int HealthStatus(const std::shared_ptr<grpc::Channel>& channel, const std::string& service);
// True when the server on 127.0.0.1:port greets with its INFO line (NATS ready).
bool NatsGreets(int port);
// True when JetStream at `url` answers an account-info request (no credentials).
bool JetStreamAnswers(const std::string& url);

}  // namespace ates::devstack
