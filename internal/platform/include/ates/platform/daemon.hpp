#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ates/platform/module.hpp"

namespace ates::platform {

// main() of every daemon: blocks SIGINT/SIGTERM before any thread starts,
// reads --config (default config/<service>.yaml), answers --help and
// --print-config (every key with type, default and help), builds the Runtime,
// lets the module declare its parts and runs. Exit 2 on bad config.
int RunDaemon(const std::string& service, int argc, char** argv,
              const std::function<std::unique_ptr<Module>()>& make_module);

template <class M>
int RunDaemon(const std::string& service, int argc, char** argv) {
  return RunDaemon(service, argc, argv, [] { return std::make_unique<M>(); });
}

}  // namespace ates::platform
