#include "billing_watch.hpp"

#include <nats/nats.h>

#include <stdexcept>
#include <string_view>

#include "ates/events/billing/v1/billing_events.pb.h"
#include "ates/events/schedule/v1/schedule_events.pb.h"
#include "ates/platform/events.hpp"

namespace ates::bench::system {
namespace {

void Check(natsStatus s, const char* what) {
  if (s != NATS_OK) {
    throw std::runtime_error(std::string(what) + ": " + natsStatus_GetText(s));
  }
}

}  // namespace

BillingWatch::BillingWatch(const std::string& url, OnApplied on_applied)
    : on_applied_(std::move(on_applied)) {
  Check(natsConnection_ConnectTo(&conn_, url.c_str()), "connect to NATS");
  Check(natsConnection_Subscribe(&applied_, conn_, "billing.transaction.applied", OnMessage, this),
        "subscribe billing.transaction.applied");
  Check(natsConnection_Subscribe(&payout_, conn_, "billing.payout.made", OnMessage, this),
        "subscribe billing.payout.made");
  // A slow callback must not lose messages: no pending limits.
  natsSubscription_SetPendingLimits(applied_, -1, -1);
  natsSubscription_SetPendingLimits(payout_, -1, -1);
  Check(natsConnection_Flush(conn_), "flush");
  Check(natsConnection_JetStream(&js_, conn_, nullptr), "JetStream context");
}

BillingWatch::~BillingWatch() {
  if (applied_) natsSubscription_Unsubscribe(applied_);
  if (payout_) natsSubscription_Unsubscribe(payout_);
  natsSubscription_Destroy(applied_);
  natsSubscription_Destroy(payout_);
  jsCtx_Destroy(js_);
  natsConnection_Destroy(conn_);
}

void BillingWatch::OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* self) {
  static_cast<BillingWatch*>(self)->Handle(natsMsg_GetSubject(msg), natsMsg_GetData(msg),
                                           natsMsg_GetDataLength(msg));
  natsMsg_Destroy(msg);
}

void BillingWatch::Handle(const char* subject, const char* data, int len) {
  auto now = Clock::now();
  if (std::string_view(subject) == "billing.payout.made") {
    ++payouts_;
    last_payout_ = now.time_since_epoch().count();
    return;
  }
  ates::events::billing::v1::TransactionApplied t;
  if (!t.ParseFromArray(data, len)) return;
  if (t.kind() == ates::events::billing::v1::TRANSACTION_KIND_ASSIGN_FEE) {
    ++fees_;
    last_fee_ = now.time_since_epoch().count();
  }
  on_applied_(Applied{t.task_id(), t.account_id(), static_cast<int>(t.kind()), now});
}

int64_t BillingWatch::Pending(const std::string& stream, const std::string& consumer,
                              int64_t* redelivered) {
  jsConsumerInfo* ci = nullptr;
  jsErrCode err{};
  if (js_GetConsumerInfo(&ci, js_, stream.c_str(), consumer.c_str(), nullptr, &err) != NATS_OK) {
    return -1;
  }
  int64_t pending = static_cast<int64_t>(ci->NumPending + ci->NumAckPending);
  if (redelivered) *redelivered = static_cast<int64_t>(ci->NumRedelivered);
  jsConsumerInfo_Destroy(ci);
  return pending;
}

void BillingWatch::PublishDayClosed(const std::string& business_date) {
  namespace ev = ates::events;
  auto now = std::chrono::system_clock::now();
  ates::events::schedule::v1::BillingCycleClosed body;
  body.set_business_date(business_date);
  body.set_time_zone("UTC");
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  body.mutable_closed_at()->set_seconds(secs.count());
  std::string payload = body.SerializeAsString();
  std::string id = ev::NewUuid(), occurred = ev::FormatTimestamp(now);
  natsMsg* msg = nullptr;
  Check(natsMsg_Create(&msg, "schedule.billing_cycle.closed", nullptr, payload.data(),
                       static_cast<int>(payload.size())),
        "message");
  natsMsgHeader_Set(msg, ev::kHeaderName, "schedule.billing_cycle.closed");
  natsMsgHeader_Set(msg, ev::kHeaderVersion, "1");
  natsMsgHeader_Set(msg, ev::kHeaderProducer, "ates-scheduler");
  natsMsgHeader_Set(msg, ev::kHeaderOccurredAt, occurred.c_str());
  natsMsgHeader_Set(msg, ev::kHeaderCorrelationId, id.c_str());
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = id.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode err{};
  natsStatus s = js_PublishMsg(&ack, js_, msg, &po, &err);
  natsMsg_Destroy(msg);
  jsPubAck_Destroy(ack);
  Check(s, "publish schedule.billing_cycle.closed");
}

}  // namespace ates::bench::system
