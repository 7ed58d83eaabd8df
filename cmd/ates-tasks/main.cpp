// ates-tasks: the task tracker (create, assign at random, shuffle, complete).
#include "ates/platform/daemon.hpp"
#include "tasks_module.hpp"

int main(int argc, char** argv) {
  return ates::platform::RunDaemon<ates::tasks::TasksModule>("ates-tasks", argc, argv);
}
