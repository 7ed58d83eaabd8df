#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ates/platform/consumer.hpp"
#include "ates/platform/pg.hpp"

namespace ates::test {

// Table the recording handler writes into. No unique key on purpose: an event
// applied twice shows up as two rows.
inline constexpr std::string_view kEffectsSchema =
    "CREATE TABLE IF NOT EXISTS test_effects ("
    " consumer text NOT NULL, event_id uuid NOT NULL, account_id text NOT NULL,"
    " login text NOT NULL, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())";

// A consumer-side EventHandler for tests: every accounts.account.created v1 it
// is given becomes one row in test_effects, set-based. An account whose login
// is "explode" makes Apply throw (a handler bug on one event).
class RecordingHandler final : public platform::EventHandler {
 public:
  explicit RecordingHandler(std::string consumer) : consumer_(std::move(consumer)) {}

  std::vector<std::pair<std::string, int>> Accepts() const override;
  void Apply(pg::Transaction& tx,
             const std::vector<const platform::InboundEvent*>& events) override;

 private:
  std::string consumer_;
};

// Serialized ates.events.accounts.v1.AccountCreated for a made-up account.
std::string AccountCreatedPayload(const std::string& account_id, const std::string& login);

}  // namespace ates::test
