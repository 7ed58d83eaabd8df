// test_relay: a process running one platform::OutboxRelay, for the failover
// test (two of them share a lock key; the test freezes one with SIGSTOP).
// Prints "leader=<0|1> published=<n>" whenever either changes. Stops on SIGTERM.
#include <nats/nats.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/outbox.hpp"
#include "support/test_program.hpp"

namespace {
std::string Env(const char* name) { return ates::test::RequiredEnv("test_relay", name); }
}  // namespace

int main() {
  sigset_t set = ates::test::BlockStopSignals();

  ates::platform::RelayOptions o;
  o.producer = Env("ATES_TEST_PRODUCER");
  o.lock_key = std::stoll(Env("ATES_TEST_LOCK_KEY"));
  o.leader_timeout = std::chrono::milliseconds(std::stoll(Env("ATES_TEST_LEADER_TIMEOUT_MS")));
  o.poll_interval = std::chrono::milliseconds(50);
  o.batch_size = 100;
  o.ack_timeout = std::chrono::milliseconds(1000);
  ates::log::Init(o.producer, "info");
  {
    ates::platform::JetStream nats(Env("ATES_TEST_NATS_URL"), o.producer);
    ates::platform::OutboxRelay relay(o, Env("ATES_TEST_DATABASE_URL"), nats, nullptr);
    relay.Start();
    std::atomic<bool> stop{false};
    std::thread reporter([&] {
      int leader = -1;
      uint64_t published = ~0ULL;
      while (!stop) {
        int l = relay.leader() ? 1 : 0;
        uint64_t p = relay.published();
        if (l != leader || p != published) {
          leader = l;
          published = p;
          std::cout << "leader=" << l << " published=" << p << std::endl;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
    int sig = 0;
    sigwait(&set, &sig);
    stop = true;
    reporter.join();
    relay.Stop();
  }
  nats_CloseAndWait(2000);  // nats.c callbacks log: finish them before exit
  return 0;
}
