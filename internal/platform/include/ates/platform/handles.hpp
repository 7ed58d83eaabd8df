#pragma once

// Owning handles for the objects of the two C libraries the platform uses
// (nats.c and libpq): each frees its object with the library's own function
// when it goes out of scope, on every path, so no caller frees one by hand.
// The deleters are defined in handles.cpp: this header needs neither
// library's header, and the types stay incomplete for its users.
//
// nats.c ownership (TOOLCHAIN.md): js_PublishMsgAsync takes the message only
// on success and then sets the caller's pointer to NULL, so pass it
// `msg.release()` into a local and `reset` the handle from that local after
// the call; a JetStream ack handler owns the message it is given;
// natsSubscription_Fetch fills a natsMsgList whose messages are the caller's.

#include <memory>

typedef struct __natsConnection natsConnection;
typedef struct __natsSubscription natsSubscription;
typedef struct __natsMsg natsMsg;
typedef struct __natsOptions natsOptions;
typedef struct __jsCtx jsCtx;
typedef struct jsStreamInfo jsStreamInfo;
typedef struct jsConsumerInfo jsConsumerInfo;
typedef struct jsMsgMetaData jsMsgMetaData;
typedef struct natsMsgList natsMsgList;
struct pg_conn;
struct pg_result;
typedef struct _PQconninfoOption PQconninfoOption;

namespace ates::platform {

struct NatsDeleter {
  // Closes the connection first (flushes, stops its threads), then frees it.
  void operator()(natsConnection* conn) const;
  void operator()(natsSubscription* sub) const;
  void operator()(natsMsg* msg) const;
  void operator()(natsOptions* opts) const;
  void operator()(jsCtx* js) const;
  void operator()(jsStreamInfo* info) const;
  void operator()(jsConsumerInfo* info) const;
  void operator()(jsMsgMetaData* meta) const;
};

using NatsConnectionPtr = std::unique_ptr<natsConnection, NatsDeleter>;
using NatsSubscriptionPtr = std::unique_ptr<natsSubscription, NatsDeleter>;
using NatsMsgPtr = std::unique_ptr<natsMsg, NatsDeleter>;
using NatsOptionsPtr = std::unique_ptr<natsOptions, NatsDeleter>;
using JsContextPtr = std::unique_ptr<jsCtx, NatsDeleter>;
using JsStreamInfoPtr = std::unique_ptr<jsStreamInfo, NatsDeleter>;
using JsConsumerInfoPtr = std::unique_ptr<jsConsumerInfo, NatsDeleter>;
using JsMetaDataPtr = std::unique_ptr<jsMsgMetaData, NatsDeleter>;

// A natsMsgList lives on the caller's stack; this frees what it holds (the
// messages still in it and its array), not the struct itself.
struct NatsMsgListContentsDeleter {
  void operator()(natsMsgList* list) const;
};
using NatsMsgListContents = std::unique_ptr<natsMsgList, NatsMsgListContentsDeleter>;

}  // namespace ates::platform

namespace ates::pg {

struct PqDeleter {
  void operator()(pg_conn* conn) const;           // PQfinish
  void operator()(pg_result* res) const;          // PQclear
  void operator()(PQconninfoOption* opts) const;  // PQconninfoFree
};

using ConnPtr = std::unique_ptr<pg_conn, PqDeleter>;
using ResultPtr = std::unique_ptr<pg_result, PqDeleter>;
using ConnInfoOptionsPtr = std::unique_ptr<PQconninfoOption, PqDeleter>;

}  // namespace ates::pg
