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

namespace ates::events {

// The schema registry mechanism: events by name (= subject,
// `<domain>.<entity>.<event>`) and version, with the protobuf message that is
// their body, and the domains that publish them. Producers validate against it
// before writing to the outbox; consumers decode with it and dead-letter what
// it does not know. What the system's events are is not the platform's
// knowledge: the contracts library (api/contracts, ADR 0021) declares them and
// installs them as the process's registry before main() runs.
struct EventType {
  std::string name;
  int version;
  const google::protobuf::Message* prototype;
};

// Who alone publishes a domain's subjects: the stream, its subject prefix and
// the service whose NATS user may publish there and whose name its events carry
// in Ates-Producer (ADR 15).
struct DomainOwner {
  std::string_view domain;    // first subject token, e.g. "tasks"
  std::string_view stream;    // e.g. "TASKS"
  std::string_view producer;  // e.g. "ates-tasks"
};

class Registry final {
 public:
  // The process's registry: empty unless a catalogue was installed.
  static const Registry& Global();
  // Replaces the process's registry; only during static initialisation (before
  // any thread reads it), as the contracts library's catalogue does.
  static void InstallGlobal(Registry registry);

  const EventType* Find(std::string_view name, int version) const;
  const std::vector<EventType>& All() const { return types_; }
  // Decodes a body; nullptr when the name/version is unknown or the bytes do not parse.
  std::unique_ptr<google::protobuf::Message> Decode(std::string_view name, int version,
                                                    std::string_view payload,
                                                    std::string* reason) const;

  void Register(std::string name, int version, const google::protobuf::Message& prototype);

  const std::vector<DomainOwner>& Domains() const { return domains_; }
  void AddDomain(DomainOwner owner) { domains_.push_back(owner); }

 private:
  std::vector<EventType> types_;
  std::vector<DomainOwner> domains_;
};

// Stream that holds a subject: the upper-cased first token ("tasks.task.x" -> TASKS).
std::string StreamFor(std::string_view subject);

// An event ready for the outbox. Build it with contracts::Make (typed), or
// Make() here, which checks the registry.
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
  // W3C traceparent of the work that caused it (the context current when it
  // was made), "" for none; the relay sends it as header `traceparent`.
  std::string traceparent;
};

OutgoingEvent Make(std::string_view name, int version, const google::protobuf::Message& body,
                   std::string aggregate_type, std::string aggregate_id);
// The same without the registry look-up, for a caller that knows at compile
// time that `body` is event `name` v`version` (contracts::Make).
OutgoingEvent Wrap(std::string_view name, int version, const google::protobuf::Message& body,
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
