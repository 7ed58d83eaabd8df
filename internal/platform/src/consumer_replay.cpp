// Replaying a dead letter: the stored event goes through the same inbox and
// handler as a delivery would, so an event already applied is never applied twice.
#include <google/protobuf/message.h>

#include <charconv>
#include <map>
#include <sstream>

#include "ates/platform/consumer.hpp"
#include "ates/platform/event_envelope.hpp"
#include "ates/platform/events.hpp"
#include "ates/platform/log.hpp"

namespace ates::platform {
namespace {

// FOR UPDATE: two operators (or replicas) replaying the same one take turns.
constexpr std::string_view kLoadDeadLetter =
    "SELECT event_id, subject, event_type, event_version, headers, payload FROM dead_letters"
    " WHERE id = $1 AND consumer = $2 AND replayed_at IS NULL FOR UPDATE";
constexpr std::string_view kInboxInsertOne =
    "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2::uuid)"
    " ON CONFLICT DO NOTHING RETURNING event_id";
constexpr std::string_view kMarkReplayed =
    "UPDATE dead_letters SET replayed_at = now() WHERE id = $1";

// The "Key: value" lines the consumer stored (AllHeaders in consumer.cpp).
std::map<std::string, std::string> ParseHeaders(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(": ");
    if (colon != std::string::npos) out[line.substr(0, colon)] = line.substr(colon + 2);
  }
  return out;
}

}  // namespace

std::string Consumer::ReplayRefusal(const InboundEvent& ev) const {
  // A forged envelope stays forged: an operator's replay cannot launder it.
  if (options_.verify_envelope) {
    std::string why = events::EnvelopeMismatch(ev.subject, ev.name, ev.producer);
    if (!why.empty()) return "envelope rejected: " + why;
  }
  if (!events::IsUuid(ev.id)) return "missing or malformed event id '" + ev.id + "'";
  for (const auto& [name, v] : handler_.Accepts()) {
    if (name == ev.name && v == ev.version) return "";
  }
  return "unknown event " + ev.name + " v" + std::to_string(ev.version) + " for consumer " +
         options_.name;
}

ReplayOutcome Consumer::Replay(int64_t id) {
  ReplayOutcome outcome;
  std::lock_guard apply_lock(apply_mu_);
  bool fresh = false;
  try {
    db_.InTransaction([&](pg::Transaction& tx) {
      outcome = ReplayOutcome{};
      fresh = false;
      auto row = tx.Exec(kLoadDeadLetter, {pg::Int(id), pg::Text(options_.name)});
      if (row.Rows() == 0) return;  // kNotFound: nothing changed
      InboundEvent ev;
      ev.id = row.String(0, 0);
      ev.subject = row.String(0, 1);
      ev.name = row.String(0, 2);
      auto version = row.Text(0, 3);
      std::from_chars(version.data(), version.data() + version.size(), ev.version);
      auto headers = ParseHeaders(row.String(0, 4));
      ev.producer = headers[events::kHeaderProducer];
      ev.occurred_at = headers[events::kHeaderOccurredAt];
      ev.correlation_id = headers[events::kHeaderCorrelationId];
      outcome.event_id = ev.id;
      outcome.kind = ReplayOutcome::Kind::kFailed;
      outcome.reason = ReplayRefusal(ev);
      if (!outcome.reason.empty()) return;
      std::string payload = row.Bytes(0, 5);
      ev.body = events::Registry::Global().Decode(ev.name, ev.version, payload, &outcome.reason);
      if (!outcome.reason.empty()) return;
      fresh = tx.Exec(kInboxInsertOne, {pg::Text(options_.name), pg::Text(ev.id)}).Rows() == 1;
      if (fresh) handler_.Apply(tx, {&ev});
      tx.Exec(kMarkReplayed, {pg::Int(id)});
      outcome.kind = fresh ? ReplayOutcome::Kind::kApplied : ReplayOutcome::Kind::kAlreadyApplied;
    });
  } catch (const pg::PgError& e) {
    if (e.IsTransient()) throw;
    outcome.kind = ReplayOutcome::Kind::kFailed;
    outcome.reason = std::string("handler failed: ") + e.what();
  } catch (const std::exception& e) {
    outcome.kind = ReplayOutcome::Kind::kFailed;
    outcome.reason = std::string("handler failed: ") + e.what();
  }
  if (fresh && outcome.kind == ReplayOutcome::Kind::kApplied) handler_.AfterCommit();
  log::Info("dead letter replayed", {{"consumer", options_.name},
                                     {"dead_letter_id", std::to_string(id)},
                                     {"event_id", outcome.event_id},
                                     {"reason", outcome.reason}});
  return outcome;
}

}  // namespace ates::platform
