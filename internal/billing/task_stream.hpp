#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reconcile.hpp"

namespace ates::platform {
class JetStream;
}

namespace ates::billing {

// One TASKS message as billing's ledger would take it: a v1 assigned or
// completed event with a UUID id, task and assignee, whose envelope (subject,
// name, producer) is believable (ADR 15); nullopt for anything the ledger
// would not post.
std::optional<TaskEvent> DecodeTaskEvent(std::string_view subject, std::string_view event_id,
                                         std::string_view name, std::string_view producer,
                                         std::string_view version, std::string_view payload,
                                         uint64_t stream_seq);

// Whether a stream in this state still holds every message published since
// `start_ns`: nothing was ever removed, or what was removed is older.
bool StreamHoldsSince(uint64_t first_seq, uint64_t messages, int64_t first_time_ns,
                      int64_t last_time_ns, int64_t start_ns);

// Reads task events back from the TASKS stream for a reconciliation, with an
// ephemeral pull consumer per subject that starts at a time and is deleted
// when done (the server also drops it after a minute without a reader, should
// this process die meanwhile). Nothing is acked to billing's own consumer.
class TaskStreamReader final {
 public:
  struct Options {
    std::string stream = "TASKS";
    int batch = 1000;
    std::chrono::milliseconds fetch_wait{1000};
  };
  struct Result {
    std::vector<TaskEvent> events;  // in stream order, copies included
    int64_t messages = 0;           // read, any time
    int64_t skipped = 0;            // not applicable by billing (bad id, version or body)
    int64_t last_published_ns = 0;  // of the last message read
  };

  explicit TaskStreamReader(platform::JetStream& nats) : TaskStreamReader(nats, Options{}) {}
  TaskStreamReader(platform::JetStream& nats, Options options)
      : nats_(nats), options_(std::move(options)) {}

  // Throws FAILED_PRECONDITION when the stream no longer holds every message
  // published since `start_ns` (retention removed some), UNAVAILABLE when NATS
  // cannot be reached.
  void CheckHolds(int64_t start_ns);

  // Reads `subject` (tasks.task.assigned or tasks.task.completed) from the
  // first message published at or after `start_ns` until `stop` says so or the
  // stream has no more; keeps the events whose own time is in [from_us,
  // until_us). `cancelled` is asked between batches (throws UNAVAILABLE).
  void Read(const std::string& subject, int64_t start_ns, int64_t from_us, int64_t until_us,
            ReadStop& stop, const std::function<bool()>& cancelled, Result& out);

 private:
  platform::JetStream& nats_;
  Options options_;
};

}  // namespace ates::billing
