#include "task_stream.hpp"

#include <nats/nats.h>

#include <cmath>
#include <memory>

#include "ates/contracts/catalogue.hpp"
#include "ates/platform/error.hpp"
#include "ates/platform/event_envelope.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"

namespace ates::billing {
namespace {

namespace t1 = ::ates::events::tasks::v1;

// The server drops an ephemeral consumer nobody pulls from for this long, so
// one left behind by a crash does not stay.
constexpr int64_t kInactiveThresholdNs = 60'000'000'000;

int64_t Micros(const google::protobuf::Timestamp& ts) {
  // Rounded as PostgreSQL rounds a timestamptz to microseconds.
  return ts.seconds() * 1'000'000 + static_cast<int64_t>(std::lround(ts.nanos() / 1000.0));
}

std::string Header(natsMsg* msg, const char* key) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, key, &value) == NATS_OK && value) return value;
  return "";
}

struct SubscriptionDeleter {
  void operator()(natsSubscription* sub) const {
    // Unsubscribe deletes the ephemeral consumer this subscription created.
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
};
using Subscription = std::unique_ptr<natsSubscription, SubscriptionDeleter>;

struct MsgList {
  natsMsgList list{};
  ~MsgList() { natsMsgList_Destroy(&list); }
};

struct Meta {
  uint64_t seq = 0;
  uint64_t pending = 0;
  int64_t published_ns = 0;
};

Meta MetaOf(natsMsg* msg) {
  Meta m;
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
    m.seq = meta->Sequence.Stream;
    m.pending = meta->NumPending;
    m.published_ns = meta->Timestamp;
    jsMsgMetaData_Destroy(meta);
  }
  return m;
}

// The body of a T when the headers name T's catalogue entry and it parses.
template <class T>
std::optional<T> Parse(std::string_view name, std::string_view version, std::string_view payload) {
  constexpr const auto& spec = contracts::Spec<T>();
  if (name != spec.name || version != std::to_string(spec.version)) return std::nullopt;
  T body;
  if (!body.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return std::nullopt;
  return body;
}

Error Unavailable(const std::string& what, natsStatus s) {
  return Error(ErrorCode::kUnavailable, what + ": " + platform::NatsStatusText(s));
}

}  // namespace

std::optional<TaskEvent> DecodeTaskEvent(std::string_view subject, std::string_view event_id,
                                         std::string_view name, std::string_view producer,
                                         std::string_view version, std::string_view payload,
                                         uint64_t stream_seq) {
  if (!events::IsUuid(event_id) || !events::EnvelopeMismatch(subject, name, producer).empty()) {
    return std::nullopt;
  }
  TaskEvent e;
  e.id = std::string(event_id);
  e.stream_seq = stream_seq;
  if (auto a = Parse<t1::TaskAssigned>(name, version, payload)) {
    e.kind = TaskEvent::Kind::kAssigned;
    e.task_id = a->task_id();
    e.account_id = a->assignee_id();
    e.occurred_us = Micros(a->assigned_at());
  } else if (auto c = Parse<t1::TaskCompleted>(name, version, payload)) {
    e.kind = TaskEvent::Kind::kCompleted;
    e.task_id = c->task_id();
    e.account_id = c->assignee_id();
    e.occurred_us = Micros(c->completed_at());
  } else {
    return std::nullopt;
  }
  // The ledger skips these too (ledger.cpp): no posting is due.
  if (!events::IsUuid(e.task_id) || !events::IsUuid(e.account_id)) return std::nullopt;
  return e;
}

bool StreamHoldsSince(uint64_t first_seq, uint64_t messages, int64_t first_time_ns,
                      int64_t last_time_ns, int64_t start_ns) {
  if (first_seq <= 1) return true;  // nothing was ever removed
  // Removed by retention or a purge: fine if all of it was older than the start.
  return messages == 0 ? last_time_ns < start_ns : first_time_ns <= start_ns;
}

void TaskStreamReader::CheckHolds(int64_t start_ns) {
  if (!nats_.Connected()) throw Error(ErrorCode::kUnavailable, "NATS is not reachable");
  jsStreamInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, nats_.js(), options_.stream.c_str(), nullptr, &err);
  std::unique_ptr<jsStreamInfo, decltype(&jsStreamInfo_Destroy)> guard(info, jsStreamInfo_Destroy);
  if (s == NATS_NOT_FOUND || err == JSStreamNotFoundErr) {
    throw Error(ErrorCode::kFailedPrecondition, "stream " + options_.stream + " does not exist");
  }
  if (s != NATS_OK || info == nullptr) throw Unavailable("stream info " + options_.stream, s);
  const jsStreamState& st = info->State;
  if (!StreamHoldsSince(st.FirstSeq, st.Msgs, st.FirstTime, st.LastTime, start_ns)) {
    throw Error(ErrorCode::kFailedPrecondition,
                "stream " + options_.stream +
                    " no longer holds the whole day: retention removed messages published "
                    "after its start (oldest kept: " +
                    events::FormatTimestamp(std::chrono::system_clock::time_point(
                        std::chrono::duration_cast<std::chrono::system_clock::duration>(
                            std::chrono::nanoseconds(st.FirstTime)))) +
                    ")");
  }
}

namespace {

// An ephemeral pull consumer on `subject` from the first message published at
// or after `start_ns`.
Subscription Subscribe(platform::JetStream& nats, const TaskStreamReader::Options& options,
                       const std::string& subject, int64_t start_ns) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options.stream.c_str();
  so.Config.DeliverPolicy = js_DeliverByStartTime;
  so.Config.OptStartTime = start_ns;
  // A pull consumer needs acks (server 2.9); one ack per batch acks it all.
  so.Config.AckPolicy = js_AckAll;
  so.Config.MaxAckPending = options.batch * 4;
  so.Config.InactiveThreshold = kInactiveThresholdNs;
  so.Config.Description = "ates-billing reconciliation (ephemeral)";
  natsSubscription* raw = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_PullSubscribe(&raw, nats.js(), subject.c_str(), nullptr, nullptr, &so, &err);
  if (s != NATS_OK) {
    throw Unavailable(
        "reading " + subject + " (js error " + std::to_string(static_cast<int>(err)) + ")", s);
  }
  return Subscription(raw);
}

// Nothing left to deliver, as the server says: a slow or lost fetch is never
// taken for the end of the stream.
bool CaughtUp(natsSubscription* sub, const std::string& subject) {
  jsConsumerInfo* info = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus st = natsSubscription_GetConsumerInfo(&info, sub, nullptr, &err);
  std::unique_ptr<jsConsumerInfo, decltype(&jsConsumerInfo_Destroy)> guard(info,
                                                                           jsConsumerInfo_Destroy);
  if (st != NATS_OK || info == nullptr) throw Unavailable("consumer info " + subject, st);
  return info->NumPending == 0 && info->NumAckPending == 0;
}

// Takes one message into `out`; true when the read is done after it.
bool Take(natsMsg* msg, int64_t from_us, int64_t until_us, ReadStop& stop,
          TaskStreamReader::Result& out) {
  Meta meta = MetaOf(msg);
  ++out.messages;
  out.last_published_ns = meta.published_ns;
  auto event = DecodeTaskEvent(
      natsMsg_GetSubject(msg), Header(msg, events::kHeaderMsgId), Header(msg, events::kHeaderName),
      Header(msg, events::kHeaderProducer), Header(msg, events::kHeaderVersion),
      std::string_view(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))),
      meta.seq);
  if (!event) {
    ++out.skipped;
  } else {
    stop.Saw(event->id);
    if (event->occurred_us >= from_us && event->occurred_us < until_us) {
      out.events.push_back(std::move(*event));
    }
  }
  return meta.pending == 0 || stop.Done(meta.published_ns);
}

}  // namespace

void TaskStreamReader::Read(const std::string& subject, int64_t start_ns, int64_t from_us,
                            int64_t until_us, ReadStop& stop,
                            const std::function<bool()>& cancelled, Result& out) {
  if (!nats_.Connected()) throw Error(ErrorCode::kUnavailable, "NATS is not reachable");
  Subscription sub = Subscribe(nats_, options_, subject, start_ns);
  if (CaughtUp(sub.get(), subject)) return;  // nothing published since the start
  for (;;) {
    if (cancelled && cancelled()) {
      throw Error(ErrorCode::kUnavailable, "reconciliation cancelled or out of time");
    }
    MsgList batch;
    jsErrCode err = static_cast<jsErrCode>(0);
    natsStatus s = natsSubscription_Fetch(&batch.list, sub.get(), options_.batch,
                                          options_.fetch_wait.count(), &err);
    if (s == NATS_TIMEOUT || (s == NATS_OK && batch.list.Count == 0)) {
      if (CaughtUp(sub.get(), subject)) return;
      continue;
    }
    if (s != NATS_OK) throw Unavailable("fetch " + subject, s);
    bool done = false;
    for (int i = 0; i < batch.list.Count && !done; ++i) {
      done = Take(batch.list.Msgs[i], from_us, until_us, stop, out);
    }
    natsMsg_Ack(batch.list.Msgs[batch.list.Count - 1], nullptr);
    if (done) return;
  }
}

}  // namespace ates::billing
