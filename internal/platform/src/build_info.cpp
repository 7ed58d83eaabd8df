// ates_build_info: which build a daemon runs. ATES_VERSION and ATES_REVISION
// come from CMake (internal/platform/CMakeLists.txt) for this file alone.
#include "ates/platform/scrape_metrics.hpp"

#ifndef ATES_VERSION
#define ATES_VERSION "unknown"
#endif
#ifndef ATES_REVISION
#define ATES_REVISION "unknown"
#endif

namespace ates::platform {
namespace {

class BuildInfoCollector final : public prometheus::Collectable {
 public:
  explicit BuildInfoCollector(std::string service) : service_(std::move(service)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    return {GaugeSamples(
        "ates_build_info", "Always 1; the labels tell which build of which daemon runs.",
        {Sample(
            1,
            {{"revision", BuildRevision()}, {"service", service_}, {"version", BuildVersion()}})})};
  }

 private:
  std::string service_;
};

}  // namespace

const char* BuildVersion() { return ATES_VERSION; }
const char* BuildRevision() { return ATES_REVISION; }

std::shared_ptr<prometheus::Collectable> BuildInfo(const std::string& service) {
  return std::make_shared<BuildInfoCollector>(service);
}

}  // namespace ates::platform
