#include "ates/platform/jetstream.hpp"

#include <nats/nats.h>

#include "ates/platform/log.hpp"

namespace ates::platform {

std::string NatsStatusText(int status) {
  return natsStatus_GetText(static_cast<natsStatus>(status));
}

std::vector<StreamSpec> SystemStreams(std::chrono::milliseconds duplicate_window, int replicas) {
  std::vector<StreamSpec> streams;
  for (const char* domain : {"accounts", "tasks", "billing", "schedule"}) {
    StreamSpec s;
    s.name = domain;
    for (auto& c : s.name) c = static_cast<char>(std::toupper(c));
    s.subjects = {std::string(domain) + ".>"};
    s.duplicate_window = duplicate_window;
    s.replicas = replicas;
    streams.push_back(std::move(s));
  }
  return streams;
}

namespace {
void OnDisconnected(natsConnection*, void*) { log::Warn("nats disconnected"); }
void OnReconnected(natsConnection*, void*) { log::Info("nats reconnected"); }
void OnConnected(natsConnection*, void*) { log::Info("nats connected"); }
}  // namespace

JetStream::JetStream(const std::string& url, const std::string& client_name) {
  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetName(opts, client_name.c_str());
  natsOptions_SetAllowReconnect(opts, true);
  natsOptions_SetMaxReconnect(opts, -1);
  natsOptions_SetReconnectWait(opts, 250);
  natsOptions_SetReconnectJitter(opts, 100, 1000);
  natsOptions_SetReconnectBufSize(opts, 64 * 1024 * 1024);
  natsOptions_SetTimeout(opts, 2000);
  natsOptions_SetDisconnectedCB(opts, OnDisconnected, nullptr);
  natsOptions_SetReconnectedCB(opts, OnReconnected, nullptr);
  natsOptions_SetRetryOnFailedConnect(opts, true, OnConnected, nullptr);
  natsStatus s = natsConnection_Connect(&conn_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    throw NatsError("nats connect " + url + ": " + NatsStatusText(s));
  }
  if (s == NATS_NOT_YET_CONNECTED) log::Warn("nats not reachable yet, retrying", {{"url", url}});
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  s = natsConnection_JetStream(&js_, conn_, &jo);
  if (s != NATS_OK) throw NatsError("jetstream context: " + NatsStatusText(s));
}

JetStream::~JetStream() {
  if (js_) jsCtx_Destroy(js_);
  if (conn_) {
    natsConnection_Close(conn_);
    natsConnection_Destroy(conn_);
  }
}

jsCtx* JetStream::NewContext(jsOptions* options) {
  jsCtx* ctx = nullptr;
  natsStatus s = natsConnection_JetStream(&ctx, conn_, options);
  if (s != NATS_OK) throw NatsError("jetstream context: " + NatsStatusText(s));
  return ctx;
}

bool JetStream::Connected() const {
  return natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
}

void JetStream::EnsureStreams(const std::vector<StreamSpec>& streams) {
  for (const auto& spec : streams) {
    std::vector<const char*> subjects;
    for (const auto& s : spec.subjects) subjects.push_back(s.c_str());
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = spec.name.c_str();
    cfg.Subjects = subjects.data();
    cfg.SubjectsLen = static_cast<int>(subjects.size());
    cfg.Storage = js_FileStorage;
    cfg.Replicas = spec.replicas;
    cfg.Duplicates =
        std::chrono::duration_cast<std::chrono::nanoseconds>(spec.duplicate_window).count();
    jsErrCode err = static_cast<jsErrCode>(0);
    jsStreamInfo* info = nullptr;
    natsStatus s = js_AddStream(&info, js_, &cfg, nullptr, &err);
    if (s != NATS_OK && err == JSStreamNameExistErr) {
      s = js_UpdateStream(&info, js_, &cfg, nullptr, &err);
    }
    if (info) jsStreamInfo_Destroy(info);
    if (s != NATS_OK) {
      throw NatsError("ensure stream " + spec.name + ": " + NatsStatusText(s) + " (js error " +
                      std::to_string(static_cast<int>(err)) + ")");
    }
  }
}

}  // namespace ates::platform
