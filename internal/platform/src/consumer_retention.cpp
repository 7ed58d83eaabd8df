// A consumer's watch on stream retention and the pruning of its inbox.
#include <nats/nats.h>

#include <chrono>

#include "ates/platform/consumer.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/metrics.hpp"
#include "ates/platform/queries.hpp"

namespace ates::platform {
namespace {

// Rows per chunk of inbox_prune.sql; chunks keep locks and WAL small.
constexpr int kPruneChunk = 10000;
constexpr int kMaxChunksPerRound = 20;

constexpr int64_t kNanosPerSecond = 1'000'000'000;

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void Consumer::Housekeeping() {
  auto now = std::chrono::steady_clock::now();
  if (now < next_housekeeping_) return;
  next_housekeeping_ = now + options_.housekeeping_interval;
  jsStreamInfo* raw = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&raw, nats_.js(), options_.stream.c_str(), nullptr, &err);
  JsStreamInfoPtr info(raw);
  if (s != NATS_OK || info == nullptr || info->Config == nullptr) {
    return;  // NATS away: the next round tries again
  }
  const int64_t max_age = info->Config->MaxAge;
  const int64_t duplicates = info->Config->Duplicates;
  const uint64_t first_seq = info->State.FirstSeq;
  info.reset();
  try {
    CheckRetention(max_age, first_seq);
    if (!waiting_for_database_) PruneInbox(max_age, duplicates);
  } catch (const std::exception& e) {
    // Housekeeping never holds up consuming; the next round tries again.
    log::Warn("consumer housekeeping failed", {{"consumer", options_.name}, {"error", e.what()}});
  }
}

void Consumer::CheckRetention(int64_t max_age_ns, uint64_t first_seq) {
  if (max_age_ns <= 0) return;  // the stream keeps everything
  jsConsumerInfo* raw = nullptr;
  jsErrCode err = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&raw, nats_.js(), options_.stream.c_str(),
                                    options_.name.c_str(), nullptr, &err);
  JsConsumerInfoPtr ci(raw);
  if (s != NATS_OK || ci == nullptr) return;
  const bool behind = ci->NumPending > 0 || ci->NumAckPending > 0;
  // The oldest event not yet applied is at or after the ack floor; for a
  // filtered consumer the message there may be older still, so the estimate
  // errs on the safe side.
  const uint64_t oldest_seq = std::max<uint64_t>(ci->AckFloor.Stream + 1, first_seq);
  ci.reset();
  int64_t age = 0;
  if (behind) {
    natsMsg* msg = nullptr;
    natsStatus got =
        js_GetMsg(&msg, nats_.js(), options_.stream.c_str(), oldest_seq, nullptr, &err);
    NatsMsgPtr owned(msg);
    if (got == NATS_OK) age = NowNanos() - natsMsg_GetTime(msg);
  }
  const int64_t headroom = max_age_ns - age;
  if (metrics_) {
    metrics_->ConsumerRetentionHeadroom(options_.name)
        .Set(static_cast<double>(headroom) / kNanosPerSecond);
  }
  const bool at_risk = headroom < max_age_ns / 5;
  if (at_risk != retention_at_risk_.exchange(at_risk) && at_risk) {
    log::Error("consumer is about to lose events to stream retention",
               {{"consumer", options_.name},
                {"stream", options_.stream},
                {"headroom_s", std::to_string(headroom / kNanosPerSecond)}});
  }
}

void Consumer::PruneInbox(int64_t max_age_ns, int64_t duplicates_ns) {
  if (options_.inbox_retention.count() <= 0) return;
  const int64_t keep_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.inbox_retention).count();
  // An id may come back while the stream still holds it (a replay) or within
  // the duplicate window of a re-publish: those ids must stay in the inbox.
  if (max_age_ns <= 0 || keep_ns < max_age_ns + duplicates_ns) {
    if (!warned_unprunable_) {
      log::Warn("inbox not pruned: the stream keeps events longer than inbox.retention",
                {{"consumer", options_.name},
                 {"stream_max_age_s", std::to_string(max_age_ns / kNanosPerSecond)},
                 {"inbox_retention_s", std::to_string(keep_ns / kNanosPerSecond)}});
      warned_unprunable_ = true;
    }
    return;
  }
  const pg::Params params{pg::Text(options_.name),
                          pg::Text(std::to_string(options_.inbox_retention.count()) + " ms")};
  int64_t pruned = 0;
  for (int chunk = 0; chunk < kMaxChunksPerRound && !Stopping(); ++chunk) {
    int64_t n = db_.WithRetry([&](pg::Connection& c) { return c.Exec(sql::kInboxPrune, params); })
                    .Affected();
    pruned += n;
    if (n < kPruneChunk) break;
  }
  if (pruned > 0) {
    log::Info("inbox pruned", {{"consumer", options_.name}, {"rows", std::to_string(pruned)}});
  }
}

}  // namespace ates::platform
