#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace google::protobuf {
class Message;
}
namespace ates::events::tasks::v1 {
class TaskCreated;
}
namespace ates::events::tasks::v2 {
class TaskCreated;
}

namespace ates::events {

// The schema registry: every event the system publishes, by name (= subject,
// `<domain>.<entity>.<event>`) and version, with the protobuf message that is
// its body. Producers validate against it before writing to the outbox;
// consumers decode with it and dead-letter what it does not know.
struct EventType {
  std::string name;
  int version;
  const google::protobuf::Message* prototype;
};

class Registry final {
 public:
  static const Registry& Global();

  const EventType* Find(std::string_view name, int version) const;
  const std::vector<EventType>& All() const { return types_; }
  // Decodes a body; nullptr when the name/version is unknown or the bytes do not parse.
  std::unique_ptr<google::protobuf::Message> Decode(std::string_view name, int version,
                                                    std::string_view payload,
                                                    std::string* reason) const;

  void Register(std::string name, int version, const google::protobuf::Message& prototype);

 private:
  std::vector<EventType> types_;
};

// Upcaster: a v1 task.created ("[UP-42] text" titles) as the v2 event.
ates::events::tasks::v2::TaskCreated UpcastTaskCreated(
    const ates::events::tasks::v1::TaskCreated& v1);
// "[UP-42] Fix it" -> {"UP-42", "Fix it"}; a title without a leading key -> {"", title}.
std::pair<std::string, std::string> SplitLegacyTitle(std::string_view title);

// Stream that holds a subject: the upper-cased first token ("tasks.task.x" -> TASKS).
std::string StreamFor(std::string_view subject);

// An event ready for the outbox. Build it with Make(), which checks the registry.
struct OutgoingEvent {
  std::string id;  // UUID; becomes Nats-Msg-Id
  std::string name;
  int version = 1;
  std::string aggregate_type;
  std::string aggregate_id;
  std::string payload;
  std::string correlation_id;
  std::string causation_id;
  std::chrono::system_clock::time_point occurred_at;
};

OutgoingEvent Make(std::string_view name, int version, const google::protobuf::Message& body,
                   std::string aggregate_type, std::string aggregate_id);

// Time-ordered random UUID (version 7), lower-case text form.
std::string NewUuid();
bool IsUuid(std::string_view text);
// Deterministic UUID (version 8) from a name, e.g. "schedule.billing_cycle.closed:2026-11-25":
// every producer of the same fact gets the same event id, so JetStream and the
// inboxes drop the copies.
std::string NameUuid(std::string_view name);

std::string FormatTimestamp(std::chrono::system_clock::time_point tp);  // RFC 3339, UTC, micros

// Header names on every event message.
inline constexpr const char* kHeaderMsgId = "Nats-Msg-Id";
inline constexpr const char* kHeaderName = "Ates-Event-Name";
inline constexpr const char* kHeaderVersion = "Ates-Event-Version";
inline constexpr const char* kHeaderProducer = "Ates-Producer";
inline constexpr const char* kHeaderOccurredAt = "Ates-Occurred-At";
inline constexpr const char* kHeaderCorrelationId = "Ates-Correlation-Id";
inline constexpr const char* kHeaderCausationId = "Ates-Causation-Id";

}  // namespace ates::events
