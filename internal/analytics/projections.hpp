#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "ates/contracts/event_router.hpp"

namespace ates::analytics {

// What one batch tells analytics, merged per key.
struct ProjectionBatch {
  // What a batch tells about one task (nullopt: nothing).
  struct TaskFact {
    std::optional<std::string> title, jira_id, completed_at;
    std::optional<int64_t> fee, reward;
  };
  std::map<std::string, TaskFact> tasks;
  std::map<std::string, std::pair<int64_t, int64_t>> earnings;        // date -> fees, rewards
  std::map<std::pair<std::string, std::string>, int64_t> day_totals;  // (account, date) -> sum
};

// Builds analytics' read models from TASKS, BILLING and SCHEDULE events.
// Changes are merged per key within a batch and applied as commutative
// upserts, so any order, duplicates and replays give the same tables.
class Projections final : public contracts::EventRouter<ProjectionBatch> {
 public:
  explicit Projections(std::string time_zone);

 private:
  void Flush(pg::Transaction& tx, ProjectionBatch& batch) override;
  void UpsertTasks(pg::Transaction& tx, const ProjectionBatch& batch);

  std::string time_zone_;
};

}  // namespace ates::analytics
