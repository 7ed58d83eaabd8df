#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "http_message.hpp"
#include "method_routes.hpp"
#include "upstreams.hpp"

namespace google::protobuf {
class Message;
}

namespace ates::gateway {

struct ConnectLimits {
  size_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds default_timeout{10000};
  std::chrono::milliseconds max_timeout{60000};
  bool secure_cookies = false;  // the gateway serves TLS
};

// Connect unary calls (POST /<package.Service>/<Method>, JSON or binary
// protobuf) forwarded to the daemon that serves the method, with the caller's
// token; replies and errors converted back. A reply that carries an access
// token (Login, ChangePassword) becomes the session cookie instead.
class ConnectHandler final {
 public:
  ConnectHandler(const MethodRoutes& routes, Upstreams& upstreams, ConnectLimits limits);

  // `arrived`: when the request's headers were read; Connect-Timeout-Ms counts from then.
  HttpResponse Handle(const HttpRequest& request,
                      std::chrono::system_clock::time_point arrived) const;
  // POST /session/logout: the session cookie removed.
  HttpResponse Logout() const;
  // The Connect error answer for `status` (also for refusals before any call).
  static HttpResponse Error(const grpc::Status& status);

 private:
  HttpResponse Forward(const MethodRoute& route, const HttpRequest& request, bool json,
                       std::chrono::system_clock::time_point deadline) const;
  HttpResponse Reply(const MethodRoute& route, const std::string& bytes, bool json) const;
  // Moves an access token in `reply` into a Set-Cookie header of `response`.
  void TakeSession(google::protobuf::Message& reply, HttpResponse& response) const;
  std::chrono::system_clock::time_point Deadline(
      const HttpRequest& request, std::chrono::system_clock::time_point arrived) const;

  const MethodRoutes& routes_;
  Upstreams& upstreams_;
  ConnectLimits limits_;
};

}  // namespace ates::gateway
