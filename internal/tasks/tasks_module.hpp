#pragma once

#include <memory>

#include "ates/contracts/accounts_replica.hpp"
#include "ates/platform/module.hpp"
#include "ates/platform/random.hpp"
#include "task_grpc_service.hpp"
#include "task_service.hpp"

namespace ates::tasks {

// tasks.* in config/ates-tasks.yaml.
struct TasksSettings {
  int64_t random_seed = 0;
  int64_t create_per_minute = 0;
  int64_t create_burst = 0;
  std::chrono::milliseconds shuffle_cooldown{0};

  static const platform::ConfigSchema<TasksSettings>& Schema();
};

// ates-tasks: the task tracker (create, assign at random, shuffle, complete).
class TasksModule final : public platform::Module {
 public:
  void Declare(platform::ModuleBuilder& builder) override;
  std::vector<platform::ConfigKey> ConfigKeys() const override;

 private:
  std::unique_ptr<platform::RandomPicker> picker_;
  std::unique_ptr<TaskService> tasks_;
  std::unique_ptr<TaskGrpcService> service_;
  contracts::AccountsReplica accounts_;
};

}  // namespace ates::tasks
