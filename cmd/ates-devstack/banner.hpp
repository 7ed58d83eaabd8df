#pragma once

#include <string>

#include "secrets.hpp"
#include "settings.hpp"

namespace ates::devstack {

// The "aTES is running" box: servers, daemons, the first admin and how to log in.
void PrintBanner(const Settings& settings, const Secrets& secrets, const std::string& pg_data);

}  // namespace ates::devstack
