#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <string>
#include <vector>

namespace ates::pg {
class Pool;
}

namespace ates::platform {

// Metrics read when Prometheus scrapes, not kept up to date in between.

// The standard process metrics (as the Go and Python clients name them):
// process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_start_time_seconds, from /proc/self.
std::shared_ptr<prometheus::Collectable> ProcessMetrics();

// ates_db_pool_connections{state="in_use"|"idle"} and
// ates_db_pool_max_connections of `pool`, which must outlive every scrape.
std::shared_ptr<prometheus::Collectable> PoolMetrics(pg::Pool& pool);

// ates_build_info{service,version,revision} 1: version is the CMake project
// version, revision the git commit at configure time ("unknown" outside git).
std::shared_ptr<prometheus::Collectable> BuildInfo(const std::string& service);
const char* BuildVersion();
const char* BuildRevision();

// One gauge sample (a helper for the collectables above).
prometheus::MetricFamily GaugeSamples(std::string name, std::string help,
                                      std::vector<prometheus::ClientMetric> samples);
prometheus::ClientMetric Sample(double value,
                                std::vector<prometheus::ClientMetric::Label> labels = {});

}  // namespace ates::platform
