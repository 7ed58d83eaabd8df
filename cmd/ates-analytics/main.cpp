// ates-analytics: admin read models built only from events.
#include "analytics_module.hpp"
#include "ates/platform/daemon.hpp"

int main(int argc, char** argv) {
  return ates::platform::RunDaemon<ates::analytics::AnalyticsModule>("ates-analytics", argc, argv);
}
