#include "ates/platform/jetstream.hpp"

#include <nats/nats.h>

#include "ates/platform/event_envelope.hpp"
#include "ates/platform/log.hpp"

namespace ates::platform {

std::string NatsStatusText(int status) {
  return natsStatus_GetText(static_cast<natsStatus>(status));
}

std::vector<StreamSpec> SystemStreams(const StreamSpec& base) {
  std::vector<StreamSpec> streams;
  for (const auto& owner : events::DomainOwners()) {
    StreamSpec s = base;
    s.name = owner.stream;
    s.subjects = {std::string(owner.domain) + ".>"};
    streams.push_back(std::move(s));
  }
  return streams;
}

std::vector<std::string> SplitServers(const std::string& url) {
  std::vector<std::string> servers;
  size_t from = 0;
  while (from <= url.size()) {
    size_t comma = url.find(',', from);
    if (comma == std::string::npos) comma = url.size();
    std::string one = url.substr(from, comma - from);
    one.erase(0, one.find_first_not_of(' '));
    one.erase(one.find_last_not_of(' ') + 1);
    if (!one.empty()) servers.push_back(std::move(one));
    from = comma + 1;
  }
  return servers;
}

namespace {
void OnDisconnected(natsConnection*, void*) { log::Warn("nats disconnected"); }
void OnReconnected(natsConnection*, void*) { log::Info("nats reconnected"); }
void OnConnected(natsConnection*, void*) { log::Info("nats connected"); }
// A publish or subscription the server refused (its permissions, ADR 15).
void OnAsyncError(natsConnection* nc, natsSubscription*, natsStatus status, void*) {
  const char* text = nullptr;
  natsConnection_GetLastError(nc, &text);
  log::Error("nats refused an operation",
             {{"status", NatsStatusText(status)}, {"error", text ? text : ""}});
}

bool IsAuthFailure(natsStatus s) {
  return s == NATS_CONNECTION_AUTH_FAILED || s == NATS_NOT_PERMITTED;
}

// Options shared by the first attempt and the retrying one.
NatsOptionsPtr ConnectOptions(const std::vector<std::string>& servers, const std::string& name,
                              const NatsCredentials& credentials) {
  natsOptions* raw = nullptr;
  natsOptions_Create(&raw);
  NatsOptionsPtr owned(raw);
  natsOptions* opts = raw;
  std::vector<const char*> server_ptrs;
  for (const auto& s : servers) server_ptrs.push_back(s.c_str());
  natsOptions_SetServers(opts, server_ptrs.data(), static_cast<int>(server_ptrs.size()));
  natsOptions_SetName(opts, name.c_str());
  if (!credentials.user.empty()) {
    natsOptions_SetUserInfo(opts, credentials.user.c_str(), credentials.password.c_str());
  }
  if (!credentials.tls_ca_file.empty()) {
    natsOptions_SetSecure(opts, true);
    natsStatus s = natsOptions_LoadCATrustedCertificates(opts, credentials.tls_ca_file.c_str());
    if (s != NATS_OK) {
      throw NatsError("nats.tls_ca_file '" + credentials.tls_ca_file + "': " + NatsStatusText(s));
    }
  }
  natsOptions_SetAllowReconnect(opts, true);
  natsOptions_SetMaxReconnect(opts, -1);
  natsOptions_SetReconnectWait(opts, 250);
  natsOptions_SetReconnectJitter(opts, 100, 1000);
  natsOptions_SetReconnectBufSize(opts, 64 * 1024 * 1024);
  natsOptions_SetTimeout(opts, 2000);
  natsOptions_SetDisconnectedCB(opts, OnDisconnected, nullptr);
  natsOptions_SetReconnectedCB(opts, OnReconnected, nullptr);
  natsOptions_SetErrorHandler(opts, OnAsyncError, nullptr);
  return owned;
}

}  // namespace

JetStream::JetStream(const std::string& url, const std::string& client_name,
                     const NatsCredentials& credentials) {
  // libnats 3.4.1 accepts "nats://a:4222,nats://b:4222" in SetURL but then
  // never connects: a cluster's seed list goes in as a server list.
  NatsOptionsPtr opts = ConnectOptions(SplitServers(url), client_name, credentials);
  // One plain attempt first: a server that refuses the credentials answers
  // at once, and retrying them for ever would only hide it. A server that is
  // not there yet is retried in the background.
  natsConnection* raw = nullptr;
  natsStatus s = natsConnection_Connect(&raw, opts.get());
  conn_.reset(raw);
  // Why the first attempt failed (refused, TLS handshake, ...), for the log.
  const char* last = s == NATS_OK ? nullptr : nats_GetLastError(nullptr);
  const std::string first_error = NatsStatusText(s) + (last ? std::string(": ") + last : "");
  if (s != NATS_OK && !IsAuthFailure(s)) {
    conn_.reset();
    natsOptions_SetRetryOnFailedConnect(opts.get(), true, OnConnected, nullptr);
    raw = nullptr;
    s = natsConnection_Connect(&raw, opts.get());
    conn_.reset(raw);
  }
  opts.reset();
  const std::string who = credentials.user.empty() ? "no credentials" : "user " + credentials.user;
  if (IsAuthFailure(s)) {
    throw NatsError("nats " + url + " refused " + who + " (" + NatsStatusText(s) +
                    "): check nats.user and nats.password / nats.password_file");
  }
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    throw NatsError("nats connect " + url + ": " + NatsStatusText(s));
  }
  if (s == NATS_NOT_YET_CONNECTED) {
    log::Warn("nats not reachable yet, retrying", {{"url", url}, {"error", first_error}});
  }
  log::Info("nats client", {{"url", url}, {"as", who}});
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  js_.reset(NewContext(&jo));
}

JetStream::~JetStream() = default;

jsCtx* JetStream::NewContext(jsOptions* options) {
  jsCtx* ctx = nullptr;
  natsStatus s = natsConnection_JetStream(&ctx, conn_.get(), options);
  if (s != NATS_OK) throw NatsError("jetstream context: " + NatsStatusText(s));
  return ctx;
}

bool JetStream::Connected() const {
  return natsConnection_Status(conn_.get()) == NATS_CONN_STATUS_CONNECTED;
}

namespace {

int64_t Nanos(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// Logs where an existing stream's settings differ from this daemon's config.
void ReportDifferences(const StreamSpec& spec, const jsStreamConfig& have) {
  auto differs = [&](const char* what, int64_t configured, int64_t actual) {
    if (configured == actual) return;
    log::Warn("stream differs from config, left as it is",
              {{"stream", spec.name},
               {"setting", what},
               {"config", std::to_string(configured)},
               {"stream_value", std::to_string(actual)}});
  };
  differs("max_age_ns", Nanos(spec.max_age), have.MaxAge);
  differs("max_bytes", spec.max_bytes, have.MaxBytes);
  differs("duplicate_window_ns", Nanos(spec.duplicate_window), have.Duplicates);
  differs("replicas", spec.replicas, have.Replicas);
}

}  // namespace

void JetStream::EnsureStreams(const std::vector<StreamSpec>& streams) {
  for (const auto& spec : streams) {
    jsErrCode err = static_cast<jsErrCode>(0);
    jsStreamInfo* raw = nullptr;
    natsStatus s = js_GetStreamInfo(&raw, js_.get(), spec.name.c_str(), nullptr, &err);
    JsStreamInfoPtr info(raw);
    if (s == NATS_OK && info != nullptr) {
      // Never updated from here: a start must not reset what an operator set.
      if (info->Config) ReportDifferences(spec, *info->Config);
      continue;
    }
    if (s != NATS_NOT_FOUND && err != JSStreamNotFoundErr) {
      throw NatsError("stream info " + spec.name + ": " + NatsStatusText(s));
    }
    std::vector<const char*> subjects;
    for (const auto& sub : spec.subjects) subjects.push_back(sub.c_str());
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = spec.name.c_str();
    cfg.Subjects = subjects.data();
    cfg.SubjectsLen = static_cast<int>(subjects.size());
    cfg.Storage = js_FileStorage;
    cfg.Replicas = spec.replicas;
    cfg.Duplicates = Nanos(spec.duplicate_window);
    cfg.MaxAge = Nanos(spec.max_age);
    cfg.MaxBytes = spec.max_bytes;
    err = static_cast<jsErrCode>(0);
    raw = nullptr;
    s = js_AddStream(&raw, js_.get(), &cfg, nullptr, &err);
    info.reset(raw);
    // Another replica may have created it meanwhile: fine.
    if (s != NATS_OK && err != JSStreamNameExistErr) {
      throw NatsError("create stream " + spec.name + ": " + NatsStatusText(s) + " (js error " +
                      std::to_string(static_cast<int>(err)) + ")");
    }
    if (s == NATS_OK) log::Info("stream created", {{"stream", spec.name}});
  }
}

}  // namespace ates::platform
