#include "ates/devstack/readiness.hpp"

#include <arpa/inet.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>

#include "grpc/health/v1/health.grpc.pb.h"

namespace ates::devstack {
namespace {

// A connected socket to host:port, or -1.
int Connect(const std::string& host, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool Accepts(const std::string& target) {
  auto colon = target.rfind(':');
  if (colon == std::string::npos) return false;
  std::string host = target.substr(0, colon);
  if (host == "0.0.0.0") host = "127.0.0.1";
  int fd = Connect(host, std::stoi(target.substr(colon + 1)));
  if (fd < 0) return false;
  close(fd);
  return true;
}

int HealthStatus(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  auto status = stub->Check(&ctx, req, &resp);
  return status.ok() ? static_cast<int>(resp.status()) : -1;
}

bool NatsGreets(int port) {
  int fd = Connect("127.0.0.1", port);
  if (fd < 0) return false;
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[4] = {};
  ssize_t n = recv(fd, buf, sizeof buf, MSG_WAITALL);
  close(fd);
  return n == 4 && std::string(buf, 4) == "INFO";
}

bool JetStreamAnswers(const std::string& url) {
  natsConnection* nc = nullptr;
  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetTimeout(opts, 500);
  natsOptions_SetAllowReconnect(opts, false);
  natsStatus s = natsConnection_Connect(&nc, opts);
  natsOptions_Destroy(opts);
  bool ok = false;
  if (s == NATS_OK) {
    jsCtx* js = nullptr;
    if (natsConnection_JetStream(&js, nc, nullptr) == NATS_OK) {
      jsAccountInfo* info = nullptr;
      jsOptions jo;
      jsOptions_Init(&jo);
      jo.Wait = 1000;
      ok = js_GetAccountInfo(&info, js, &jo, nullptr) == NATS_OK;
      if (info) jsAccountInfo_Destroy(info);
      jsCtx_Destroy(js);
    }
  }
  if (nc) {
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
  }
  return ok;
}

}  // namespace ates::devstack
