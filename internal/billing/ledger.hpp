#pragma once

#include <functional>
#include <string>

#include "ates/platform/consumer.hpp"
#include "ates/platform/random.hpp"

namespace ates::billing {

// The company's own account: every posting's counter-entry goes here.
inline constexpr const char* kCompanyAccount = "00000000-0000-0000-0000-000000000001";

struct LedgerSettings {
  std::string time_zone = "UTC";  // IANA name of the business day's zone
};

// Turns task and schedule events into money, set-based, one transaction per
// batch (the consumer's). Any order, duplicates and replays give the same
// ledger: prices are inserted once (ON CONFLICT DO NOTHING), each posting's id
// is the id of the event that caused it, each payout is unique per account
// and business date.
class LedgerHandler final : public platform::EventHandler {
 public:
  LedgerHandler(LedgerSettings settings, platform::RandomPicker& random,
                std::function<void()> on_commit);

  std::vector<std::pair<std::string, int>> Accepts() const override;
  void Apply(pg::Transaction& tx,
             const std::vector<const platform::InboundEvent*>& events) override;
  void AfterCommit() override;

 private:
  void ClosePeriod(pg::Transaction& tx, const std::string& business_date,
                   const std::string& event_id);

  LedgerSettings settings_;
  platform::RandomPicker& random_;
  std::function<void()> on_commit_;
};

}  // namespace ates::billing
