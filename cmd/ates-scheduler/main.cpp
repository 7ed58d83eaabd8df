// ates-scheduler: the business-day clock; closes each business day exactly once.
#include "ates/platform/daemon.hpp"
#include "scheduler_module.hpp"

int main(int argc, char** argv) {
  return ates::platform::RunDaemon<ates::scheduler::SchedulerModule>("ates-scheduler", argc, argv);
}
