// The daemon runtime (ADR 0018) in-process, with nothing listening at the
// database and NATS addresses: a module that serves an RPC without an access
// policy never starts (exit 2, the method named), unknown config keys and
// malformed ATES_<KEY> overrides still stop a daemon with exit 2, and
// --print-config lists every key with its type, default and help.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ates/platform/daemon.hpp"
#include "ates/tasks/v1/task_service.grpc.pb.h"
#include "tasks_module.hpp"

namespace ates::platform {
namespace {

using ::testing::HasSubstr;
namespace tv1 = ::ates::tasks::v1;

std::atomic<int> g_handler_runs{0};

class CountingTasks final : public tv1::TaskService::Service {
 public:
  grpc::Status CreateTask(grpc::ServerContext*, const tv1::CreateTaskRequest*,
                          tv1::CreateTaskResponse*) override {
    ++g_handler_runs;
    return grpc::Status::OK;
  }
};

// Serves TaskService with a policy that forgets ShuffleTasks.
class ForgetfulModule final : public Module {
 public:
  void Declare(ModuleBuilder& builder) override {
    builder.Service(service_, ServicePolicy::For<tv1::TaskService>()
                                  .Authenticated("CreateTask")
                                  .Authenticated("GetTask")
                                  .Authenticated("ListTasks")
                                  .Authenticated("CompleteTask"));
  }
  std::vector<ConfigKey> ConfigKeys() const override { return {}; }

 private:
  CountingTasks service_;
};

// config/ates-tasks.yaml with the database and NATS on a closed port, any
// gRPC port and no metrics listener, plus `extra` lines.
std::string WriteConfig(const std::string& name, const std::string& extra = "") {
  std::ifstream in(std::string(ATES_SOURCE_DIR) + "/config/ates-tasks.yaml");
  std::stringstream yaml;
  yaml << in.rdbuf();
  std::string text = yaml.str() + extra;
  auto path = std::filesystem::temp_directory_path() /
              ("ates-runtime-test-" + std::to_string(getpid()) + "-" + name + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

template <class M>
Outcome RunInProcess(const std::string& service, std::vector<std::string> args) {
  std::vector<char*> argv{const_cast<char*>(service.c_str())};
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int code = RunDaemon<M>(service, static_cast<int>(argv.size()), argv.data());
  return {code, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
}

class RuntimeModuleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Nothing answers on port 1: the runtime must refuse before it needs either.
    setenv("ATES_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none", 1);
    setenv("ATES_NATS_URL", "nats://127.0.0.1:1", 1);
    setenv("ATES_NATS_USER", "", 1);
    setenv("ATES_GRPC_LISTEN", "127.0.0.1:0", 1);
    setenv("ATES_ADMIN_LISTEN", "", 1);
    setenv("ATES_AUTH_KEYS_URL", "", 1);
  }
};

TEST_F(RuntimeModuleTest, AModuleServingAnRpcWithoutAPolicyDoesNotStartAndExits2) {
  auto result =
      RunInProcess<ForgetfulModule>("ates-forgetful", {"--config", WriteConfig("forgetful")});
  EXPECT_EQ(result.code, 2) << result.err;
  EXPECT_THAT(result.err, HasSubstr("configuration error"));
  EXPECT_THAT(result.err, HasSubstr("ShuffleTasks"));
  EXPECT_EQ(g_handler_runs.load(), 0);
}

TEST_F(RuntimeModuleTest, AnUnknownConfigKeyStopsTheDaemonWithExit2NamingIt) {
  auto path = WriteConfig("unknown", "extra_section:\n  typo_key: 1\n");
  auto result = RunInProcess<tasks::TasksModule>("ates-tasks", {"--config", path});
  EXPECT_EQ(result.code, 2) << result.err;
  EXPECT_THAT(result.err, HasSubstr("extra_section.typo_key"));
}

TEST_F(RuntimeModuleTest, AMalformedEnvironmentOverrideOfAModuleKeyExits2) {
  setenv("ATES_TASKS_RANDOM_SEED", "not-a-number", 1);
  // Each run in this process needs a logger name of its own.
  auto result =
      RunInProcess<tasks::TasksModule>("ates-tasks-env", {"--config", WriteConfig("env")});
  unsetenv("ATES_TASKS_RANDOM_SEED");
  EXPECT_EQ(result.code, 2) << result.err;
  EXPECT_THAT(result.err, HasSubstr("tasks.random_seed"));
}

TEST_F(RuntimeModuleTest, PrintConfigListsEveryKeyWithTypeDefaultAndHelp) {
  auto result = RunInProcess<tasks::TasksModule>("ates-tasks", {"--print-config"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out,
              HasSubstr("tasks.random_seed (int, required, env ATES_TASKS_RANDOM_SEED)"));
  EXPECT_THAT(result.out, HasSubstr("auth.keys_refresh (duration, default '1m'"));
  EXPECT_THAT(result.out, HasSubstr("consumers.accounts.durable (string, required"));
  EXPECT_THAT(result.out, HasSubstr("database.url"));
  EXPECT_THAT(result.out, HasSubstr("grpc.tls.cert"));
}

}  // namespace
}  // namespace ates::platform
