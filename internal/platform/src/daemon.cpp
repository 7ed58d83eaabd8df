#include "ates/platform/daemon.hpp"

#include <absl/synchronization/mutex.h>
#include <nats/nats.h>
#include <signal.h>

#include <iostream>
#include <optional>

#include "ates/platform/log.hpp"
#include "ates/platform/runtime.hpp"

namespace ates::platform {
namespace {

struct Arguments {
  std::string config_path;
  bool help = false;
  bool print_config = false;
};

// Nullopt (after saying why on stderr) for an argument nobody knows.
std::optional<Arguments> ParseArguments(const std::string& service, int argc, char** argv) {
  Arguments args{"config/" + service + ".yaml"};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      args.config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      args.config_path = arg.substr(9);
    } else if (arg == "--help" || arg == "-h") {
      args.help = true;
    } else if (arg == "--print-config") {
      args.print_config = true;
    } else {
      std::cerr << service << ": unknown argument '" << arg << "' (see --help)\n";
      return std::nullopt;
    }
  }
  return args;
}

void PrintConfigKeys(const Module& module) {
  auto keys = Runtime::ConfigKeys(module.stateless());
  for (auto& key : module.ConfigKeys()) keys.push_back(std::move(key));
  std::cout << FormatConfigKeys(keys);
}

int Serve(const std::string& service, const std::string& config_path, Module& module) {
  auto config = Config::FromFile(config_path);
  log::Init(service, config.GetString("log.level"));
  Runtime runtime(service, std::move(config), module.stateless());
  module.Declare(runtime);
  return runtime.Run();
}

}  // namespace

int RunDaemon(const std::string& service, int argc, char** argv,
              const std::function<std::unique_ptr<Module>()>& make_module) {
  // Before any thread exists, so that only sigwait() sees SIGINT/SIGTERM.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Debian builds abseil with the mutex deadlock detector on: a lock-order graph
  // updated on every lock of gRPC's mutexes (1-2% of a busy server's CPU).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  auto args = ParseArguments(service, argc, argv);
  if (!args) return 2;
  if (args->help) {
    std::cout << "usage: " << service << " [--config FILE] [--print-config]\n"
              << "Every config key can be overridden by ATES_<KEY> (dots as underscores);\n"
              << "--print-config lists them all with type, default and help.\n";
    return 0;
  }
  int code = 0;
  try {
    auto module = make_module();
    if (args->print_config) {
      PrintConfigKeys(*module);
      return 0;
    }
    // The module's parts use the runtime's pool and relay: Serve() ends the
    // runtime (every thread stopped) before `module` goes.
    code = Serve(service, args->config_path, *module);
  } catch (const ConfigError& e) {
    std::cerr << service << ": configuration error: " << e.what() << "\n";
    code = 2;
  } catch (const std::exception& e) {
    std::cerr << service << ": fatal: " << e.what() << "\n";
    code = 1;
  }
  // nats.c runs connection callbacks (which log) on its own thread, also after
  // the connection is closed. Wait for them while spdlog is still alive, or that
  // thread can crash the exiting process (SIGSEGV instead of exit code 0).
  nats_CloseAndWait(2000);
  return code;
}

}  // namespace ates::platform
