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
#include "ates/platform/queries.hpp"

namespace ates::platform {
namespace {

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

// A row of dead_letter_load.sql as the event a delivery would have carried
// (its body still undecoded) and its payload.
struct DeadLetterRow {
  InboundEvent event;
  std::string payload;

  static DeadLetterRow From(const pg::Row& row) {
    DeadLetterRow r;
    InboundEvent& ev = r.event;
    ev.id = row.String("event_id");
    ev.subject = row.String("subject");
    ev.name = row.String("event_type");
    auto version = row.Text("event_version");
    std::from_chars(version.data(), version.data() + version.size(), ev.version);
    auto headers = ParseHeaders(row.String("headers"));
    ev.producer = headers[events::kHeaderProducer];
    ev.occurred_at = headers[events::kHeaderOccurredAt];
    ev.correlation_id = headers[events::kHeaderCorrelationId];
    ev.trace = trace::ContinueOrStart(headers[trace::kTraceparentHeader]);
    r.payload = row.Bytes("payload");
    return r;
  }
};

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

bool Consumer::ReplayApply(pg::Transaction& tx, int64_t id, InboundEvent& ev,
                           ReplayOutcome& outcome) {
  bool fresh =
      tx.Exec(sql::kInboxInsertOne, {pg::Text(options_.name), pg::Text(ev.id)}).Rows() == 1;
  if (fresh) handler_.Apply(tx, {&ev});
  tx.Exec(sql::kDeadLetterMarkReplayed, {pg::Int(id)});
  outcome.kind = fresh ? ReplayOutcome::Kind::kApplied : ReplayOutcome::Kind::kAlreadyApplied;
  return fresh;
}

ReplayOutcome Consumer::Replay(int64_t id) {
  ReplayOutcome outcome;
  absl::MutexLock apply_lock(&apply_mu_);
  bool fresh = false;
  try {
    db_.InTransaction([&](pg::Transaction& tx) {
      outcome = ReplayOutcome{};
      fresh = false;
      auto rows = tx.Exec(sql::kDeadLetterLoad, {pg::Int(id), pg::Text(options_.name)});
      if (rows.Rows() == 0) return;  // kNotFound: nothing changed
      DeadLetterRow row = DeadLetterRow::From(rows.At(0));
      InboundEvent& ev = row.event;
      outcome.event_id = ev.id;
      outcome.kind = ReplayOutcome::Kind::kFailed;
      outcome.reason = ReplayRefusal(ev);
      if (!outcome.reason.empty()) return;
      ev.body =
          events::Registry::Global().Decode(ev.name, ev.version, row.payload, &outcome.reason);
      if (!outcome.reason.empty()) return;
      fresh = ReplayApply(tx, id, ev, outcome);
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
