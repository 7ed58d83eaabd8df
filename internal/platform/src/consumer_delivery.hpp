#pragma once

// The consumer's view of one fetched message, shared by consumer.cpp and
// consumer_commit.cpp (private to the platform library).

#include <nats/nats.h>

#include <string>

#include "ates/platform/consumer.hpp"
#include "ates/platform/handles.hpp"

namespace ates::platform {

struct Consumer::Delivery {
  NatsMsgPtr msg;  // freed with the batch, on every path
  InboundEvent event;
  uint64_t deliveries = 1;  // the server's count, for the dead-letter record
  int attempts = 0;         // poison attempts counted by this consumer
  std::string reason;       // non-empty: poison
  bool dead_letter = false;
  bool settled = false;  // acked or offered again: nothing more to do in this batch
};

// The value of header `key` of `msg`, "" when it has none.
std::string MsgHeader(natsMsg* msg, const char* key);

}  // namespace ates::platform
