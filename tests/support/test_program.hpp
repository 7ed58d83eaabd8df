#pragma once
// What the small helper programs of the tests (test_consumer, test_relay) share:
// settings from the environment and stop signals taken by sigwait.
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <string>

namespace ates::test {

// The value of `name`; exits 2 naming it when it is unset or empty.
inline std::string RequiredEnv(const char* program, const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    std::cerr << program << ": " << name << " is not set\n";
    std::exit(2);
  }
  return v;
}

// Blocks SIGTERM and SIGINT in every thread started after it; returns them
// for sigwait.
inline sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace ates::test
