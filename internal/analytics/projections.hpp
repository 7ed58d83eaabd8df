#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "ates/contracts/event_router.hpp"

namespace ates::analytics {

// Builds analytics' read models from TASKS, BILLING and SCHEDULE events.
// Changes are merged per key within a batch and applied as commutative
// upserts, so any order, duplicates and replays give the same tables.
class Projections final : public contracts::EventRouter {
 public:
  explicit Projections(std::string time_zone);

 private:
  // What a batch tells about one task (nullopt: nothing).
  struct TaskFact {
    std::optional<std::string> title, jira_id, completed_at;
    std::optional<int64_t> fee, reward;
  };
  struct Batch {
    std::map<std::string, TaskFact> tasks;
    std::map<std::string, std::pair<int64_t, int64_t>> earnings;        // date -> fees, rewards
    std::map<std::pair<std::string, std::string>, int64_t> day_totals;  // (account, date) -> sum
  };

  void OnCreated(const events::tasks::v2::TaskCreated& c);
  void OnCompleted(const events::tasks::v1::TaskCompleted& c);
  void OnPriced(const events::billing::v1::TaskPriced& p);
  void OnApplied(const events::billing::v1::TransactionApplied& t);
  void BeginBatch() override { batch_ = Batch{}; }
  void Flush(pg::Transaction& tx) override;
  void UpsertTasks(pg::Transaction& tx);
  void UpsertEarnings(pg::Transaction& tx);
  void UpsertDayTotals(pg::Transaction& tx);

  std::string time_zone_;
  Batch batch_;
};

}  // namespace ates::analytics
