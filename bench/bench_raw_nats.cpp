// Raw JetStream figures, without the platform: async publish of 200-byte
// messages with a unique Nats-Msg-Id to a file stream, then a durable pull
// consumer fetching batches of 1000 and acking every message.

#include <nats/nats.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"

namespace {

using ates::bench::CheckNats;
using ates::bench::Grouped;
using ates::bench::Note;

constexpr const char* kStream = "BENCHRAW";
constexpr const char* kSubject = "benchraw.msg";
constexpr const char* kDurable = "benchraw_pull";
constexpr int kFetchBatch = 1000;

std::atomic<int64_t> g_acked{0};
std::atomic<int64_t> g_failed{0};

void OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void*) {
  if (pa != nullptr && pae == nullptr) {
    ++g_acked;
  } else {
    ++g_failed;
  }
  natsMsg_Destroy(msg);
}

uint64_t StreamMsgs(jsCtx* js) {
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  CheckNats(js_GetStreamInfo(&info, js, kStream, nullptr, &err), "stream info");
  uint64_t n = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  return n;
}

void CreateStream(jsCtx* js) {
  jsErrCode err = static_cast<jsErrCode>(0);
  js_DeleteStream(js, kStream, nullptr, &err);  // a leftover of an earlier run, if any
  const char* subjects[] = {"benchraw.>"};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = kStream;
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Duplicates = 120LL * 1000 * 1000 * 1000;  // 2 min, as the system streams
  jsStreamInfo* info = nullptr;
  CheckNats(js_AddStream(&info, js, &cfg, nullptr, &err), "add stream");
  jsStreamInfo_Destroy(info);
}

void Publish(const ates::bench::Settings& s, jsCtx* js) {
  const int64_t n = s.events;
  std::vector<std::string> ids;
  ids.reserve(n);
  for (int64_t i = 0; i < n; ++i) ids.push_back("bench-raw-" + std::to_string(i));
  std::vector<std::string> payloads;
  payloads.reserve(1024);
  for (int i = 0; i < 1024; ++i) payloads.push_back(ates::bench::Payload(i));

  ates::bench::Stopwatch sw;
  for (int64_t i = 0; i < n; ++i) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = ids[i].c_str();
    const auto& p = payloads[i & 1023];
    CheckNats(js_PublishAsync(js, kSubject, p.data(), static_cast<int>(p.size()), &po),
              "publish async");
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = 60000;
  CheckNats(js_PublishAsyncComplete(js, &wait), "publish async complete");
  double secs = sw.Seconds();
  if (g_failed > 0 || g_acked != n) {
    throw std::runtime_error("publish: " + std::to_string(g_acked.load()) + " acked, " +
                             std::to_string(g_failed.load()) + " failed of " + std::to_string(n));
  }
  uint64_t stored = StreamMsgs(js);
  if (stored != static_cast<uint64_t>(n)) {
    throw std::runtime_error("stream holds " + std::to_string(stored) + " messages, expected " +
                             std::to_string(n));
  }
  ates::bench::Report(s, "1-js-publish", "jetstream async publish (200 B, unique MsgId)", n, "msg",
                      secs);
}

void Fetch(const ates::bench::Settings& s, natsConnection* nc, jsCtx* js) {
  const int64_t n = s.events;
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = kDurable;
  cc.AckPolicy = js_AckExplicit;
  cc.MaxAckPending = 20000;
  jsConsumerInfo* ci = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  CheckNats(js_AddConsumer(&ci, js, kStream, &cc, nullptr, &err), "add consumer");
  jsConsumerInfo_Destroy(ci);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = kStream;
  so.Consumer = kDurable;
  natsSubscription* sub = nullptr;
  CheckNats(js_PullSubscribe(&sub, js, kSubject, kDurable, nullptr, &so, &err), "pull subscribe");

  ates::bench::Stopwatch sw;
  int64_t got = 0;
  int empty = 0;
  while (got < n) {
    natsMsgList list{};
    natsStatus st = natsSubscription_Fetch(&list, sub, kFetchBatch, 5000, &err);
    if (st == NATS_TIMEOUT || (st == NATS_OK && list.Count == 0)) {
      natsMsgList_Destroy(&list);
      if (++empty >= 3) throw std::runtime_error("fetch: stream ran dry at " + std::to_string(got));
      continue;
    }
    CheckNats(st, "fetch");
    for (int i = 0; i < list.Count; ++i) CheckNats(natsMsg_Ack(list.Msgs[i], nullptr), "ack");
    got += list.Count;
    natsMsgList_Destroy(&list);
  }
  CheckNats(natsConnection_Flush(nc), "flush");  // every ack has reached the server
  double secs = sw.Seconds();
  ates::bench::Report(s, "2-js-fetch", "jetstream pull fetch (batch 1000) + ack", got, "msg", secs);

  // The server has processed the acks: nothing left pending on the consumer.
  for (int attempt = 0; attempt < 50; ++attempt) {
    CheckNats(js_GetConsumerInfo(&ci, js, kStream, kDurable, nullptr, &err), "consumer info");
    int64_t pending = ci->NumAckPending;
    jsConsumerInfo_Destroy(ci);
    if (pending == 0) break;
    if (attempt == 49) throw std::runtime_error("acks pending: " + std::to_string(pending));
    nats_Sleep(100);
  }
  natsSubscription_Destroy(sub);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    auto s = ates::bench::ParseSettings(argc, argv);
    if (s.nats_url.empty()) throw std::runtime_error("no NATS URL (ATES_BENCH_NATS_URL or --nats)");
    natsConnection* nc = nullptr;
    CheckNats(natsConnection_ConnectTo(&nc, s.nats_url.c_str()), "connect " + s.nats_url);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 10000;
    jo.PublishAsync.AckHandler = OnAck;
    jo.PublishAsync.MaxPending = 1 << 16;
    jo.PublishAsync.StallWait = 10000;
    jsCtx* js = nullptr;
    CheckNats(natsConnection_JetStream(&js, nc, &jo), "jetstream");
    CreateStream(js);
    Publish(s, js);
    Fetch(s, nc, js);
    jsErrCode err = static_cast<jsErrCode>(0);
    js_DeleteStream(js, kStream, nullptr, &err);
    jsCtx_Destroy(js);
    natsConnection_Close(nc);
    natsConnection_Destroy(nc);
    nats_Close();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_raw_nats: %s\n", e.what());
    return 1;
  }
}
