#pragma once

#include <string>

#include "ates/platform/consumer.hpp"

namespace ates::analytics {

// Builds analytics' read models from TASKS, BILLING and SCHEDULE events.
// Changes are merged per key within a batch and applied as commutative
// upserts, so any order, duplicates and replays give the same tables.
class Projections final : public platform::EventHandler {
 public:
  explicit Projections(std::string time_zone) : time_zone_(std::move(time_zone)) {}
  std::vector<std::pair<std::string, int>> Accepts() const override;
  void Apply(pg::Transaction& tx,
             const std::vector<const platform::InboundEvent*>& events) override;

 private:
  std::string time_zone_;
};

}  // namespace ates::analytics
