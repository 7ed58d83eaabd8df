#include "http_server.hpp"

#include <civetweb.h>

#include <cctype>
#include <stdexcept>
#include <vector>

#include "connect_handler.hpp"

namespace ates::gateway {
namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

HttpRequest ReadHead(const mg_request_info& info) {
  HttpRequest request;
  request.method = info.request_method ? info.request_method : "";
  request.path = info.local_uri ? info.local_uri : "/";
  request.raw_path = info.local_uri_raw ? info.local_uri_raw : request.path;
  for (int i = 0; i < info.num_headers; ++i) {
    request.headers[Lower(info.http_headers[i].name)] = info.http_headers[i].value;
  }
  return request;
}

// Reads the body; false when it is longer than `limit` (read no further).
bool ReadBody(mg_connection* conn, size_t limit, std::string& body) {
  char buffer[16384];
  for (;;) {
    int n = mg_read(conn, buffer, sizeof(buffer));
    if (n <= 0) return true;
    body.append(buffer, static_cast<size_t>(n));
    if (body.size() > limit) return false;
  }
}

// Status line, headers and body in one write: two writes meet Nagle's
// algorithm and the client's delayed ACK, 40 ms per answer.
void Write(mg_connection* conn, const HttpRequest& request, HttpResponse& response) {
  AddSecurityHeaders(response);
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    mg_get_response_code_text(conn, response.status) + "\r\n";
  bool close = false;
  for (const auto& [name, value] : response.headers) {
    out += name + ": " + value + "\r\n";
    close = close || (name == "Connection" && value == "close");
  }
  if (!close) out += "Connection: keep-alive\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n";
  if (request.method != "HEAD") out += response.body;
  mg_write(conn, out.data(), out.size());
}

HttpResponse TooLarge() {
  HttpResponse r = ConnectHandler::Error(
      {grpc::StatusCode::RESOURCE_EXHAUSTED, "request body over the gateway's limit"});
  r.status = 413;
  r.SetHeader("Connection", "close");  // the rest of the body is never read
  return r;
}

}  // namespace

void AddSecurityHeaders(HttpResponse& response) {
  response.SetHeader("Content-Security-Policy", kContentSecurityPolicy);
  response.SetHeader("X-Content-Type-Options", "nosniff");
  response.SetHeader("Referrer-Policy", "no-referrer");
  response.SetHeader("X-Frame-Options", "DENY");
}

HttpServer::HttpServer(Options options, Handler handler, Observer observer)
    : options_(std::move(options)), handler_(std::move(handler)), observer_(std::move(observer)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Start() {
  bool tls = !options_.tls_cert.empty();
  mg_init_library(tls ? MG_FEATURES_TLS : 0);
  std::string ports = options_.listen + (tls ? "s" : "");
  std::string threads = std::to_string(options_.threads);
  std::vector<const char*> config = {
      "listening_ports",       ports.c_str(), "num_threads",        threads.c_str(),
      "enable_keep_alive",     "yes",         "request_timeout_ms", "30000",
      "keep_alive_timeout_ms", "30000"};
  if (tls) {
    config.push_back("ssl_certificate");
    config.push_back(options_.tls_cert.c_str());
  }
  config.push_back(nullptr);
  mg_callbacks callbacks{};
  context_ = mg_start(&callbacks, nullptr, config.data());
  if (context_ == nullptr) throw std::runtime_error("cannot listen on " + options_.listen);
  mg_set_request_handler(context_, "/", &HttpServer::OnRequest, this);
  mg_server_port ports_info[4];
  int n = mg_get_server_ports(context_, 4, ports_info);
  port_ = n > 0 ? ports_info[0].port : 0;
}

void HttpServer::Stop() {
  if (context_ == nullptr) return;
  mg_stop(context_);
  context_ = nullptr;
  mg_exit_library();
}

int HttpServer::OnRequest(mg_connection* conn, void* self) {
  return static_cast<HttpServer*>(self)->Serve(conn);
}

int HttpServer::Serve(mg_connection* conn) {
  auto arrived = std::chrono::system_clock::now();
  auto started = std::chrono::steady_clock::now();
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest request = ReadHead(*info);
  HttpResponse response;
  bool declared_too_large = info->content_length > 0 &&
                            static_cast<size_t>(info->content_length) > options_.max_body_bytes;
  if (declared_too_large || !ReadBody(conn, options_.max_body_bytes, request.body)) {
    response = TooLarge();
  } else {
    try {
      response = handler_(request, arrived);
    } catch (const std::exception& e) {
      response = ConnectHandler::Error({grpc::StatusCode::INTERNAL, e.what()});
    }
  }
  Write(conn, request, response);
  if (observer_) observer_(request, response, std::chrono::steady_clock::now() - started);
  return response.status;
}

}  // namespace ates::gateway
