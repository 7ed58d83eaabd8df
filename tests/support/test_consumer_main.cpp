// test_consumer: a process running one platform::Consumer with the
// RecordingHandler, for the crash test. With ATES_TEST_KILL_AFTER_COMMIT=1 it
// SIGKILLs itself after its first batch committed and before that batch is
// acked. Stops on SIGTERM and prints "applied=<n>" (events it applied).
#include <nats/nats.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "ates/platform/consumer.hpp"
#include "ates/platform/jetstream.hpp"
#include "ates/platform/log.hpp"
#include "ates/platform/pg.hpp"
#include "support/test_handler.hpp"
#include "support/test_program.hpp"

namespace {
std::string Env(const char* name) { return ates::test::RequiredEnv("test_consumer", name); }
}  // namespace

int main() {
  sigset_t set = ates::test::BlockStopSignals();

  std::string nats_url = Env("ATES_TEST_NATS_URL");
  std::string db_url = Env("ATES_TEST_DATABASE_URL");
  std::string name = Env("ATES_TEST_CONSUMER");
  const char* kill_flag = std::getenv("ATES_TEST_KILL_AFTER_COMMIT");
  bool kill_after_commit = kill_flag != nullptr && std::string(kill_flag) == "1";

  ates::log::Init("test-consumer", "info");
  ates::platform::ConsumerOptions o;
  o.name = name;
  o.stream = Env("ATES_TEST_STREAM");
  o.batch_size = 100;
  o.fetch_wait = std::chrono::milliseconds(200);
  o.ack_wait = std::chrono::milliseconds(1000);
  o.max_deliver = 5;
  o.backoff = {std::chrono::milliseconds(100)};
  o.verify_envelope = false;  // the consumer machinery on a private test stream
  if (kill_after_commit) {
    o.after_commit = [] {
      ates::log::Info("batch committed, killing myself before the ack");
      raise(SIGKILL);
    };
  }
  uint64_t applied = 0;
  {
    ates::platform::JetStream nats(nats_url, "test-consumer");
    ates::pg::Pool pool(db_url, 2);
    ates::test::RecordingHandler handler(name);
    ates::platform::Consumer consumer(o, nats, pool, handler, nullptr);
    consumer.Start();
    int sig = 0;
    sigwait(&set, &sig);
    consumer.Stop();
    applied = consumer.applied();
  }
  nats_CloseAndWait(2000);  // nats.c callbacks log: finish them before exit
  std::cout << "applied=" << applied << std::endl;
  return 0;
}
