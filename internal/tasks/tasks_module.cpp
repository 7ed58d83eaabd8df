#include "tasks_module.hpp"

const std::vector<ates::pg::Migration>& TasksMigrations();

namespace ates::tasks {

const platform::ConfigSchema<TasksSettings>& TasksSettings::Schema() {
  using S = TasksSettings;
  static const auto schema =
      platform::ConfigSchema<S>()
          .Required("tasks.random_seed", &S::random_seed,
                    "0: truly random; any other value makes assignment repeatable")
          .Required("tasks.create_per_minute", &S::create_per_minute,
                    "CreateTask calls per account and minute (per replica); 0: no limit")
          .Required("tasks.create_burst", &S::create_burst, "of which this many at once")
          .Required("tasks.shuffle_cooldown", &S::shuffle_cooldown,
                    "the least time between two shuffles (all replicas); 0: none");
  return schema;
}

std::vector<platform::ConfigKey> TasksModule::ConfigKeys() const {
  return platform::WithConsumerKeys(TasksSettings::Schema().keys(), {"accounts"});
}

void TasksModule::Declare(platform::ModuleBuilder& builder) {
  auto s = builder.Settings(TasksSettings::Schema());
  picker_ = s.random_seed == 0
                ? std::make_unique<platform::RandomPicker>()
                : std::make_unique<platform::RandomPicker>(static_cast<uint64_t>(s.random_seed));
  // A fixed seed also makes the shuffle repeatable.
  std::optional<double> shuffle_seed;
  if (s.random_seed != 0) shuffle_seed = static_cast<double>(s.random_seed % 1000) / 1000.0;
  TaskLimits limits;
  limits.create_per_minute = static_cast<double>(s.create_per_minute);
  limits.create_burst = static_cast<double>(s.create_burst);
  limits.shuffle_cooldown = s.shuffle_cooldown;

  accounts_.Declare(builder, [this] { tasks_->candidates().Invalidate(); });
  builder.Migrations(TasksMigrations());
  auto& relay = builder.relay();
  tasks_ = std::make_unique<TaskService>(
      builder.db(), *picker_, [&relay] { relay.Notify(); }, shuffle_seed, limits);
  service_ = std::make_unique<TaskGrpcService>(*tasks_);
  builder.Service(*service_, TaskGrpcService::Policy());
}

}  // namespace ates::tasks
