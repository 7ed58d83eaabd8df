// The database pool's gauges, read when Prometheus scrapes.
#include "ates/platform/pg.hpp"
#include "ates/platform/scrape_metrics.hpp"

namespace ates::platform {
namespace {

class PoolCollector final : public prometheus::Collectable {
 public:
  explicit PoolCollector(pg::Pool& pool) : pool_(pool) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    const int size = pool_.size();
    const int idle = pool_.IdleCount();
    return {
        GaugeSamples(
            "ates_db_pool_connections", "Pooled database connections, by state (leased or idle).",
            {Sample(size - idle, {{"state", "in_use"}}), Sample(idle, {{"state", "idle"}})}),
        GaugeSamples("ates_db_pool_max_connections",
                     "Size of the database pool (database.pool_size).", {Sample(size)})};
  }

 private:
  pg::Pool& pool_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> PoolMetrics(pg::Pool& pool) {
  return std::make_shared<PoolCollector>(pool);
}

}  // namespace ates::platform
