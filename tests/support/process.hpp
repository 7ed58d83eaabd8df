#pragma once

// The tests start processes through the one launcher of the project's tooling
// (internal/devstack, ADR 0023); these are its names in the tests' namespace.

#include "ates/devstack/files.hpp"
#include "ates/devstack/process.hpp"

namespace ates::test {

using devstack::FreePort;
using devstack::Process;
using devstack::ReadFile;
using devstack::RunCommand;
using devstack::SpawnOptions;
using devstack::Tail;

}  // namespace ates::test
