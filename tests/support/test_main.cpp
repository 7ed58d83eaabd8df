// main() of the integration test binaries: runs the tests, then stops the
// private PostgreSQL/nats-server and removes their folder. If the binary is
// killed instead, its child processes die with it (PR_SET_PDEATHSIG) and the
// next run sweeps the folder.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include "support/test_stack.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  ates::test::TestStack::ShutdownIfStarted();
  // Let nats.c's callback thread finish (it logs) before static destructors run.
  nats_CloseAndWait(2000);
  return rc;
}
