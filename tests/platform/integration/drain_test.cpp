// The shutdown contract (ADR 32) on a real ates-auth: on SIGTERM health turns
// NOT_SERVING at once, calls are still served for server.drain_delay, then the
// process exits 0 within drain_delay + grpc.shutdown_grace.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <iostream>

#include "support/auth_helpers.hpp"
#include "support/wait.hpp"

namespace ates::test {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kNotServing = 2;  // grpc.health.v1 ServingStatus

grpc::Status GetPublicKeys(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = authv1::AuthService::NewStub(channel);
  Call c;
  authv1::GetPublicKeysResponse resp;
  return stub->GetPublicKeys(&c.ctx, {}, &resp);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

TEST(DrainTest, NotServingAtOnceCallsServedDuringTheDelayThenExitZero) {
  Daemon auth(AuthDaemon("ates-auth-drain", TestStack::Get().CreateDatabase("drain_auth"),
                         {{"ATES_SERVER_DRAIN_DELAY", "4s"}, {"ATES_GRPC_SHUTDOWN_GRACE", "3s"}}));
  ASSERT_NO_THROW(auth.Start());
  auto channel = auth.NewChannel();
  ASSERT_TRUE(GetPublicKeys(channel).ok());

  const auto sent = Clock::now();
  auth.Signal(SIGTERM);
  ASSERT_TRUE(Eventually([&] { return auth.HealthStatus("readiness") == kNotServing; }, 1s, 20ms))
      << "health did not turn NOT_SERVING";
  // Bounds are halves of the delays, not latencies: this box may be busy.
  EXPECT_LT(Seconds(Clock::now() - sent), 1.0) << "NOT_SERVING came late";
  EXPECT_EQ(auth.HealthStatus(""), kNotServing);

  // Well inside the 4 s delay: still served, on a connection made before and a new one.
  std::this_thread::sleep_until(sent + std::chrono::milliseconds(1500));
  auto during = GetPublicKeys(channel);
  EXPECT_TRUE(during.ok()) << Describe(during);
  auto fresh = GetPublicKeys(auth.NewChannel());
  EXPECT_TRUE(fresh.ok()) << Describe(fresh);
  EXPECT_LT(Seconds(Clock::now() - sent), 4.0) << "the calls were not made during the delay";

  auto code = auth.WaitExit(std::chrono::seconds(4 + 3 + 2));
  const double took = Seconds(Clock::now() - sent);
  ASSERT_TRUE(code.has_value()) << "still running " << took << " s after SIGTERM";
  EXPECT_EQ(*code, 0) << auth.Log();
  EXPECT_GE(took, 4.0) << "it did not wait the drain delay";
  EXPECT_LT(took, 4.0 + 3.0) << "past drain_delay + shutdown_grace";
  std::cout << "[ INFO ] SIGTERM to exit with drain_delay 4s: " << took << " s\n";
}

TEST(DrainTest, WithoutADrainDelayAnIdleDaemonExitsWellWithinTheGrace) {
  Daemon auth(AuthDaemon("ates-auth-nodrain", TestStack::Get().CreateDatabase("nodrain_auth"),
                         {{"ATES_GRPC_SHUTDOWN_GRACE", "10s"}}));
  ASSERT_NO_THROW(auth.Start());
  auto channel = auth.NewChannel();
  ASSERT_TRUE(GetPublicKeys(channel).ok());  // a client keeps its connection open
  const auto sent = Clock::now();
  auth.Signal(SIGTERM);
  auto code = auth.WaitExit(std::chrono::seconds(15));
  const double took = Seconds(Clock::now() - sent);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << auth.Log();
  // Nothing is in flight: the 10 s grace is for calls, not a fixed wait (it
  // took 10 s before ADR 32; half the grace allows for a busy box).
  EXPECT_LT(took, 5.0) << auth.Log();
  std::cout << "[ INFO ] SIGTERM to exit, no drain delay: " << took << " s\n";
}

}  // namespace
}  // namespace ates::test
