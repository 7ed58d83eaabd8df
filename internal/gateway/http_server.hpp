#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "http_message.hpp"

struct mg_context;
struct mg_connection;

namespace ates::gateway {

// The strict headers every answer carries (CSP, nosniff, no referrer, no framing).
void AddSecurityHeaders(HttpResponse& response);

// An HTTP/1.1 server (civetweb, keep-alive, a fixed thread pool) that reads
// each request whole and hands it to one handler; a body over the limit is
// refused (413, Connect resource_exhausted) without reading it.
class HttpServer final {
 public:
  struct Options {
    std::string listen;    // host:port (port 0: any)
    std::string tls_cert;  // PEM with chain and key; "": plain HTTP
    int threads = 16;
    size_t max_body_bytes = 1 << 20;
  };
  using Handler = std::function<HttpResponse(const HttpRequest&,
                                             std::chrono::system_clock::time_point arrived)>;

  // Told about every answer (also the refusals the server makes itself).
  using Observer = std::function<void(const HttpRequest&, const HttpResponse&,
                                      std::chrono::steady_clock::duration took)>;

  HttpServer(Options options, Handler handler, Observer observer);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens; std::runtime_error when the address cannot be bound.
  void Start();
  // Stops accepting and waits for the requests in flight.
  void Stop();
  int port() const { return port_; }

 private:
  static int OnRequest(mg_connection* conn, void* self);
  int Serve(mg_connection* conn);

  Options options_;
  Handler handler_;
  Observer observer_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

}  // namespace ates::gateway
