// The consumers' backlog gauges: JetStream pending counts and dead-letter rows.
#include "ates/platform/consumer_gauges.hpp"

#include <nats/nats.h>

#include <map>
#include <string>

#include "ates/platform/consumer.hpp"
#include "ates/platform/handles.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/metrics.hpp"
#include "ates/platform/queries.hpp"

namespace ates::platform {
namespace {

// A consumer-info request waits at most this long: NATS away must not hold
// the worker (or the daemon's shutdown, which joins it) for long.
constexpr int64_t kInfoWaitMillis = 1000;
constexpr std::chrono::seconds kCountDeadline{2};

}  // namespace

ConsumerGauges::ConsumerGauges(std::vector<const Consumer*> consumers, JetStream& nats,
                               pg::Pool& db, Metrics& metrics)
    : consumers_(std::move(consumers)), nats_(nats), db_(db), metrics_(metrics) {}

void ConsumerGauges::RefreshPending(Worker& worker, std::chrono::milliseconds interval) {
  do {
    ReadPending();
  } while (worker.SleepFor(interval));
}

void ConsumerGauges::RefreshDeadLetters(Worker& worker, std::chrono::milliseconds interval) {
  do {
    try {
      ReadDeadLetters();
    } catch (const std::exception& e) {
      log::Debug("cannot count dead letters yet", {{"error", e.what()}});
    }
  } while (worker.SleepFor(interval));
}

void ConsumerGauges::ReadPending() {
  if (!nats_.Connected()) return;  // a request would only wait for its timeout
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = kInfoWaitMillis;
  for (const Consumer* c : consumers_) {
    jsConsumerInfo* raw = nullptr;
    jsErrCode err = static_cast<jsErrCode>(0);
    natsStatus s = js_GetConsumerInfo(&raw, nats_.js(), c->stream().c_str(), c->name().c_str(),
                                      &options, &err);
    JsConsumerInfoPtr info(raw);
    if (s != NATS_OK || info == nullptr) continue;  // not created yet, or NATS away
    metrics_.ConsumerPending(c->name()).Set(static_cast<double>(info->NumPending));
    metrics_.ConsumerAckPending(c->name()).Set(static_cast<double>(info->NumAckPending));
  }
}

void ConsumerGauges::ReadDeadLetters() {
  std::map<std::string, double> waiting;
  for (const Consumer* c : consumers_) waiting[c->name()] = 0;
  // One attempt (no retries with back-off): the next round is the retry. A
  // busy pool or a stuck database holds the worker (and a shutdown that
  // joins it) no more than this.
  pg::CallDeadline bound(std::chrono::steady_clock::now() + kCountDeadline);
  auto lease = db_.Acquire();
  lease->EnsureConnected();
  auto rows = lease->Exec(sql::kDeadLetterCountWaiting, {});
  for (int i = 0; i < rows.Rows(); ++i) {
    auto row = rows.At(i);
    waiting[row.String("consumer")] = static_cast<double>(row.Int("waiting"));
  }
  for (const auto& [consumer, count] : waiting) metrics_.DeadLetters(consumer).Set(count);
}

}  // namespace ates::platform
