#include "ates/platform/handles.hpp"

#include <libpq-fe.h>
#include <nats/nats.h>

namespace ates::platform {

void NatsDeleter::operator()(natsConnection* conn) const {
  natsConnection_Close(conn);
  natsConnection_Destroy(conn);
}
void NatsDeleter::operator()(natsSubscription* sub) const { natsSubscription_Destroy(sub); }
void NatsDeleter::operator()(natsMsg* msg) const { natsMsg_Destroy(msg); }
void NatsDeleter::operator()(natsOptions* opts) const { natsOptions_Destroy(opts); }
void NatsDeleter::operator()(jsCtx* js) const { jsCtx_Destroy(js); }
void NatsDeleter::operator()(jsStreamInfo* info) const { jsStreamInfo_Destroy(info); }
void NatsDeleter::operator()(jsConsumerInfo* info) const { jsConsumerInfo_Destroy(info); }
void NatsDeleter::operator()(jsMsgMetaData* meta) const { jsMsgMetaData_Destroy(meta); }

void NatsMsgListContentsDeleter::operator()(natsMsgList* list) const { natsMsgList_Destroy(list); }

}  // namespace ates::platform

namespace ates::pg {

void PqDeleter::operator()(pg_conn* conn) const { PQfinish(conn); }
void PqDeleter::operator()(pg_result* res) const { PQclear(res); }
void PqDeleter::operator()(PQconninfoOption* opts) const { PQconninfoFree(opts); }

}  // namespace ates::pg
