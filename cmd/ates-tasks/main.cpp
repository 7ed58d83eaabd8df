// ates-tasks: the task tracker (create, assign at random, shuffle, complete).
#include "ates/contracts/accounts_replica.hpp"
#include "ates/platform/server.hpp"
#include "task_grpc_service.hpp"

const std::vector<ates::pg::Migration>& TasksMigrations();

int main(int argc, char** argv) {
  std::unique_ptr<ates::platform::RandomPicker> picker;
  std::unique_ptr<ates::tasks::TaskService> tasks;
  std::unique_ptr<ates::tasks::TaskGrpcService> service;
  std::unique_ptr<ates::contracts::AccountsReplicaHandler> accounts;
  return ates::platform::RunDaemon("ates-tasks", argc, argv, [&](ates::platform::App& app) {
    auto& cfg = app.config();
    // A fixed seed makes assignment repeatable (tests); 0 means truly random.
    int64_t seed = cfg.GetInt("tasks.random_seed");
    picker = seed == 0
                 ? std::make_unique<ates::platform::RandomPicker>()
                 : std::make_unique<ates::platform::RandomPicker>(static_cast<uint64_t>(seed));
    std::optional<double> shuffle_seed;
    if (seed != 0) shuffle_seed = static_cast<double>(seed % 1000) / 1000.0;

    app.AddMigrations(ates::contracts::AccountsReplicaMigrations());
    app.AddMigrations(TasksMigrations());
    ates::tasks::TaskLimits limits;
    limits.create_per_minute = static_cast<double>(cfg.GetInt("tasks.create_per_minute"));
    limits.create_burst = static_cast<double>(cfg.GetInt("tasks.create_burst"));
    limits.shuffle_cooldown = cfg.GetDuration("tasks.shuffle_cooldown");
    tasks = std::make_unique<ates::tasks::TaskService>(
        app.db(), *picker, [&app] { app.relay().Notify(); }, shuffle_seed, limits);
    service = std::make_unique<ates::tasks::TaskGrpcService>(*tasks);
    app.AddService(service.get(), ates::tasks::TaskGrpcService::Policy());

    auto& states = app.EnableRevocation(ates::platform::ReplicaAccountLoader(app.db()));
    accounts = std::make_unique<ates::contracts::AccountsReplicaHandler>([&] {
      tasks->candidates().Invalidate();
      states.Poke();
    });
    ates::platform::ConsumerOptions co;
    co.name = cfg.GetString("consumers.accounts.durable");
    co.stream = "ACCOUNTS";
    co.batch_size = static_cast<int>(cfg.GetInt("consumers.accounts.batch_size"));
    co.max_deliver = static_cast<int>(cfg.GetInt("consumers.accounts.max_deliver"));
    app.AddConsumer(co, *accounts);
  });
}
