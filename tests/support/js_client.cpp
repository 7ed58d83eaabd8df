#include "support/js_client.hpp"

#include <nats/nats.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "ates/platform/event_envelope.hpp"
#include "ates/platform/events.hpp"
#include "support/wait.hpp"

namespace ates::test {
namespace {

std::string Text(natsStatus s) { return natsStatus_GetText(s); }

jsOptions Wait(int64_t ms) {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = ms;
  return o;
}

}  // namespace

JsClient::JsClient(const std::string& url) {
  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  // A comma-separated list goes in as a server list: libnats 3.4.1 (Debian 12)
  // takes a list given to natsOptions_SetURL but then never connects ("No
  // server available for connection").
  std::vector<std::string> servers;
  for (size_t from = 0; from <= url.size();) {
    size_t comma = url.find(',', from);
    if (comma == std::string::npos) comma = url.size();
    if (comma > from) servers.push_back(url.substr(from, comma - from));
    from = comma + 1;
  }
  if (servers.size() > 1) {
    std::vector<const char*> list;
    for (const auto& s : servers) list.push_back(s.c_str());
    natsOptions_SetServers(opts, list.data(), static_cast<int>(list.size()));
  } else {
    natsOptions_SetURL(opts, url.c_str());
  }
  natsOptions_SetName(opts, "ates-tests");
  natsOptions_SetAllowReconnect(opts, true);
  natsOptions_SetMaxReconnect(opts, -1);
  natsOptions_SetReconnectWait(opts, 100);
  natsOptions_SetTimeout(opts, 2000);
  natsOptions_SetRetryOnFailedConnect(opts, true, nullptr, nullptr);
  natsStatus s = natsConnection_Connect(&conn_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
    throw std::runtime_error("nats connect " + url + ": " + Text(s));
  }
  jsOptions jo = Wait(5000);
  s = natsConnection_JetStream(&js_, conn_, &jo);
  if (s != NATS_OK) throw std::runtime_error("jetstream context: " + Text(s));
}

JsClient::~JsClient() {
  if (js_) jsCtx_Destroy(js_);
  if (conn_) {
    natsConnection_Close(conn_);
    natsConnection_Destroy(conn_);
  }
}

bool JsClient::Connected() const {
  return natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
}

bool JsClient::WaitConnected(std::chrono::milliseconds timeout) {
  return Eventually([&] { return Connected(); }, timeout);
}

void JsClient::AddStream(const std::string& name, const std::vector<std::string>& subjects,
                         std::chrono::milliseconds duplicate_window,
                         std::chrono::milliseconds max_age) {
  std::vector<const char*> subj;
  for (const auto& s : subjects) subj.push_back(s.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  cfg.Subjects = subj.data();
  cfg.SubjectsLen = static_cast<int>(subj.size());
  cfg.Storage = js_FileStorage;
  cfg.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(duplicate_window).count();
  cfg.MaxAge = std::chrono::duration_cast<std::chrono::nanoseconds>(max_age).count();
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&info, js_, &cfg, nullptr, &err);
  if (info) jsStreamInfo_Destroy(info);
  if (s != NATS_OK) {
    throw std::runtime_error("add stream " + name + ": " + Text(s) + " (js error " +
                             std::to_string(static_cast<int>(err)) + ")");
  }
}

JsClient::StreamLimits JsClient::Limits(const std::string& stream) {
  jsStreamInfo* info = nullptr;
  jsOptions o = Wait(2000);
  natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), &o, nullptr);
  if (s != NATS_OK || info == nullptr || info->Config == nullptr) {
    if (info) jsStreamInfo_Destroy(info);
    throw std::runtime_error("stream info " + stream + ": " + Text(s));
  }
  StreamLimits limits;
  limits.max_age = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::nanoseconds(info->Config->MaxAge));
  limits.max_bytes = info->Config->MaxBytes;
  jsStreamInfo_Destroy(info);
  return limits;
}

void JsClient::SetMaxBytes(const std::string& stream, int64_t max_bytes) {
  jsStreamInfo* info = nullptr;
  jsOptions o = Wait(2000);
  natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), &o, nullptr);
  if (s == NATS_OK && info != nullptr && info->Config != nullptr) {
    jsStreamConfig cfg = *info->Config;
    cfg.MaxBytes = max_bytes;
    jsStreamInfo* updated = nullptr;
    s = js_UpdateStream(&updated, js_, &cfg, &o, nullptr);
    if (updated) jsStreamInfo_Destroy(updated);
  }
  if (info) jsStreamInfo_Destroy(info);
  if (s != NATS_OK) throw std::runtime_error("update stream " + stream + ": " + Text(s));
}

bool JsClient::StreamExists(const std::string& name) {
  jsStreamInfo* info = nullptr;
  jsOptions o = Wait(2000);
  natsStatus s = js_GetStreamInfo(&info, js_, name.c_str(), &o, nullptr);
  if (info) jsStreamInfo_Destroy(info);
  return s == NATS_OK;
}

uint64_t JsClient::LastSeq(const std::string& stream) {
  jsStreamInfo* info = nullptr;
  jsOptions o = Wait(2000);
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), &o, &err);
  uint64_t last = (s == NATS_OK && info) ? info->State.LastSeq : 0;
  if (info) jsStreamInfo_Destroy(info);
  if (s != NATS_OK && s != NATS_NOT_FOUND && err != JSStreamNotFoundErr) {
    throw std::runtime_error("stream info " + stream + ": " + Text(s));
  }
  return last;
}

std::string JsClient::StreamLeader(const std::string& stream) {
  jsStreamInfo* info = nullptr;
  jsOptions o = Wait(2000);
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), &o, &err);
  std::string leader;
  if (s == NATS_OK && info && info->Cluster && info->Cluster->Leader)
    leader = info->Cluster->Leader;
  if (info) jsStreamInfo_Destroy(info);
  return leader;
}

int64_t JsClient::StreamReplicas(const std::string& stream) {
  jsStreamInfo* info = nullptr;
  jsOptions o = Wait(2000);
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js_, stream.c_str(), &o, &err);
  int64_t replicas = (s == NATS_OK && info && info->Config) ? info->Config->Replicas : 0;
  if (info) jsStreamInfo_Destroy(info);
  return replicas;
}

std::vector<StreamMessage> JsClient::Read(const std::string& stream, uint64_t from_seq) {
  std::vector<StreamMessage> out;
  uint64_t last = LastSeq(stream);
  for (uint64_t seq = std::max<uint64_t>(from_seq, 1); seq <= last; ++seq) {
    natsMsg* msg = nullptr;
    jsOptions o = Wait(2000);
    jsErrCode err = static_cast<jsErrCode>(0);
    natsStatus s = js_GetMsg(&msg, js_, stream.c_str(), seq, &o, &err);
    if (s == NATS_NOT_FOUND) continue;  // deleted
    if (s != NATS_OK) {
      throw std::runtime_error("get msg " + stream + "#" + std::to_string(seq) + ": " + Text(s));
    }
    StreamMessage m;
    m.seq = seq;
    m.subject = natsMsg_GetSubject(msg);
    m.data.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    const char** keys = nullptr;
    int count = 0;
    if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
      for (int i = 0; i < count; ++i) {
        const char* value = nullptr;
        if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK && value) {
          m.headers[keys[i]] = value;
        }
      }
      free(keys);
    }
    natsMsg_Destroy(msg);
    out.push_back(std::move(m));
  }
  return out;
}

PublishResult JsClient::Publish(const std::string& subject, const std::string& data,
                                const std::map<std::string, std::string>& headers) {
  natsMsg* msg = nullptr;
  natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  for (const auto& [k, v] : headers) natsMsgHeader_Set(msg, k.c_str(), v.c_str());
  jsPubAck* ack = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 5000;
  natsStatus s = js_PublishMsg(&ack, js_, msg, &po, &err);
  natsMsg_Destroy(msg);
  if (s != NATS_OK) {
    if (ack) jsPubAck_Destroy(ack);
    throw std::runtime_error("publish " + subject + ": " + Text(s) + " (js error " +
                             std::to_string(static_cast<int>(err)) + ")");
  }
  PublishResult r{ack->Sequence, ack->Duplicate};
  jsPubAck_Destroy(ack);
  return r;
}

std::optional<ConsumerState> JsClient::Consumer(const std::string& stream,
                                                const std::string& name) {
  jsConsumerInfo* ci = nullptr;
  jsOptions o = Wait(2000);
  natsStatus s = js_GetConsumerInfo(&ci, js_, stream.c_str(), name.c_str(), &o, nullptr);
  if (s != NATS_OK || ci == nullptr) {
    if (ci) jsConsumerInfo_Destroy(ci);
    return std::nullopt;
  }
  ConsumerState st;
  st.num_pending = ci->NumPending;
  st.num_ack_pending = ci->NumAckPending;
  st.num_redelivered = ci->NumRedelivered;
  st.delivered_stream_seq = ci->Delivered.Stream;
  st.ack_floor_stream_seq = ci->AckFloor.Stream;
  if (ci->Config) st.max_deliver = ci->Config->MaxDeliver;
  jsConsumerInfo_Destroy(ci);
  return st;
}

void JsClient::AddLimitedConsumer(const std::string& stream, const std::string& name,
                                  int64_t max_deliver) {
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = name.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.MaxDeliver = max_deliver;
  jsConsumerInfo* ci = nullptr;
  jsOptions o = Wait(2000);
  natsStatus s = js_AddConsumer(&ci, js_, stream.c_str(), &cc, &o, nullptr);
  if (ci) jsConsumerInfo_Destroy(ci);
  if (s != NATS_OK) throw std::runtime_error("add consumer " + name + ": " + Text(s));
}

PublishResult PublishEvent(JsClient& js, const std::string& subject, const std::string& event_id,
                           const std::string& name, int version, const std::string& payload) {
  std::map<std::string, std::string> headers{
      {events::kHeaderName, name},
      {events::kHeaderVersion, std::to_string(version)},
      // The domain's owner, as its relay would write it (the test user may
      // publish anywhere); "ates-tests" on private test streams.
      {events::kHeaderProducer, events::OwnerOf(subject)
                                    ? std::string(events::OwnerOf(subject)->producer)
                                    : std::string("ates-tests")},
      {events::kHeaderOccurredAt, events::FormatTimestamp(std::chrono::system_clock::now())},
  };
  if (!event_id.empty()) headers[events::kHeaderMsgId] = event_id;
  return js.Publish(subject, payload, headers);
}

}  // namespace ates::test
