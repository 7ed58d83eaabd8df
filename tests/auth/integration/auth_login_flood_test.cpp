// Login that holds (issue 10, item 5; ADR 16), against the real ates-auth:
// bounded Argon2 concurrency under a flood, atomic throttling per login and
// per client address, a bounded slow-down window, pruning.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <latch>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "support/auth_helpers.hpp"
#include "support/auth_security_helpers.hpp"
#include "support/wait.hpp"

namespace ates::test {
namespace {

using ::testing::HasSubstr;

constexpr int kConcurrency = 2;
constexpr int kMaxPerLogin = 5;
constexpr int kMaxPerAddress = 10;
constexpr auto kWindow = std::chrono::seconds(4);
constexpr const char* kAddressHeader = "x-ates-client-address";
constexpr int64_t kArgonKib = 19 * 1024;

// VmHWM (peak resident set) of a process, in KiB; -1 when unreadable.
int64_t PeakRssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

class AuthLoginFloodTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      db_url_ = new std::string(TestStack::Get().CreateDatabase("auth_flood"));
      daemon_ = new Daemon(
          AuthDaemon("ates-auth", *db_url_,
                     {{"ATES_AUTH_LOGIN_CONCURRENCY", std::to_string(kConcurrency)},
                      {"ATES_AUTH_LOGIN_MAX_FAILURES", std::to_string(kMaxPerLogin)},
                      {"ATES_AUTH_LOGIN_MAX_FAILURES_PER_ADDRESS", std::to_string(kMaxPerAddress)},
                      {"ATES_AUTH_LOGIN_FAILURE_WINDOW", std::to_string(kWindow.count()) + "s"},
                      {"ATES_AUTH_CLIENT_ADDRESS_HEADER", kAddressHeader}}));
      daemon_->Start();
      stub_ = authv1::AuthService::NewStub(daemon_->channel()).release();
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete stub_;
    stub_ = nullptr;
    if (daemon_ != nullptr && daemon_->Running()) {
      EXPECT_EQ(daemon_->Stop(), 0);
    }
    delete daemon_;
    daemon_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(setup_error_, nullptr) << *setup_error_; }

  // A login "from" `address` (the trusted header), or from the TCP peer when empty.
  static grpc::Status Login(const std::string& login, const std::string& password,
                            const std::string& address = "", authv1::LoginResponse* out = nullptr) {
    Call c;
    if (!address.empty()) c.ctx.AddMetadata(kAddressHeader, address);
    authv1::LoginRequest req;
    req.set_login(login);
    req.set_password(password);
    authv1::LoginResponse resp;
    auto s = stub_->Login(&c.ctx, req, &resp);
    if (out) *out = resp;
    return s;
  }

  static std::string AdminToken() {
    authv1::LoginResponse resp;
    auto s = Login(kAdminLogin, kAdminPassword, "192.0.2.250", &resp);
    EXPECT_TRUE(s.ok()) << Describe(s);
    return resp.access_token();
  }

  static void CreateAccount(const std::string& login, const std::string& password) {
    Call c(AdminToken());
    authv1::CreateAccountResponse resp;
    auto s = stub_->CreateAccount(
        &c.ctx, NewAccountRequest(login, ::ates::common::v1::ROLE_WORKER, password), &resp);
    ASSERT_TRUE(s.ok()) << Describe(s);
  }

  static bool RefusedByGate(const grpc::Status& s) {
    return s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
           s.error_message().find("in progress") != std::string::npos;
  }

  static int64_t Failures(const std::string& key) {
    pg::Connection c(*db_url_);
    auto r = c.Exec("SELECT failures FROM login_throttle WHERE key = $1", {pg::Text(key)});
    return r.Rows() == 0 ? 0 : r.Int(0, 0);
  }

  static inline std::string* setup_error_ = nullptr;
  static inline std::string* db_url_ = nullptr;
  static inline Daemon* daemon_ = nullptr;
  static inline authv1::AuthService::Stub* stub_ = nullptr;
};

TEST_F(AuthLoginFloodTest, TwoHundredParallelJunkLoginsLeaveAuthServingWithinItsMemoryBound) {
  ASSERT_TRUE(Login(kAdminLogin, kAdminPassword).ok());  // Argon2 touched once: in the baseline
  int64_t baseline = PeakRssKib(daemon_->pid());
  ASSERT_GT(baseline, 0);

  constexpr int kJunk = 200;
  std::vector<grpc::Status> results(kJunk);
  std::latch start(kJunk);
  std::vector<std::thread> threads;
  for (int i = 0; i < kJunk; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();  // all at once
      results[i] = Login("junk-" + std::to_string(i), "junk-password-" + std::to_string(i),
                         "198.51.100." + std::to_string(i % 50));
    });
  }
  for (auto& t : threads) t.join();

  int refused = 0, checked = 0;
  for (const auto& s : results) {
    if (RefusedByGate(s)) {
      ++refused;
      EXPECT_GE(RetryDelaySeconds(s), 1) << "a refusal says when to come back";
    } else {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
      ++checked;
    }
  }
  // A bound, so the slack covers gRPC's per-call buffers and the threads'
  // stacks; without the gate 200 checks would hold 200 * 19 MiB = 3.7 GiB.
  int64_t bound = baseline + kConcurrency * kArgonKib + 48 * 1024;
  int64_t peak = PeakRssKib(daemon_->pid());
  std::cout << "[ FIGURES  ] 200 junk logins: " << checked << " checked, " << refused
            << " refused at once (RESOURCE_EXHAUSTED); VmHWM " << baseline / 1024 << " MiB before, "
            << peak / 1024 << " MiB after, bound " << bound / 1024 << " MiB\n";
  EXPECT_GT(refused, 0) << "the gate never refused anything";
  EXPECT_LE(peak, bound);

  // Still serving, and a valid login works at once.
  EXPECT_EQ(daemon_->HealthStatus(""), 1);  // SERVING
  auto after = Login(kAdminLogin, kAdminPassword);
  EXPECT_TRUE(after.ok()) << Describe(after);
}

TEST_F(AuthLoginFloodTest,
       ParallelWrongGuessesForOneLoginAreAllCountedAndOnlyTheAllowedOnesChecked) {
  CreateAccount("guessed", "right-password-1");
  constexpr int kGuesses = 20;
  std::atomic<int> unauthenticated{0}, throttled{0};
  std::latch start(kGuesses);
  std::vector<std::thread> threads;
  for (int i = 0; i < kGuesses; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      for (;;) {  // each guess from its own address, retried until past the gate
        auto s = Login("guessed", "wrong-" + std::to_string(i), "203.0.113." + std::to_string(i));
        if (RefusedByGate(s)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) ++unauthenticated;
        if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++throttled;
        return;
      }
    });
  }
  for (auto& t : threads) t.join();
  // Every guess was counted, and no more than the limit had its password checked.
  EXPECT_EQ(Failures("login:guessed"), kGuesses);
  EXPECT_EQ(unauthenticated.load(), kMaxPerLogin);
  EXPECT_EQ(throttled.load(), kGuesses - kMaxPerLogin);
}

TEST_F(AuthLoginFloodTest, AThrottledAdminIsSlowedForTheWindowOnlyNeverLockedOut) {
  // Five wrong guesses for admin from an attacker's address.
  for (int i = 0; i < kMaxPerLogin; ++i) {
    EXPECT_EQ(Login(kAdminLogin, "wrong-guess", "192.0.2.66").error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // Even the right password is slowed now, with a retry delay within the window.
  auto refused = Login(kAdminLogin, kAdminPassword, "192.0.2.10");
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(refused);
  EXPECT_THAT(refused.error_message(), HasSubstr("failed logins"));
  int64_t delay = RetryDelaySeconds(refused);
  EXPECT_GE(delay, 1);
  EXPECT_LE(delay, kWindow.count());
  // The attacker keeps guessing: that does not move the window.
  EXPECT_EQ(Login(kAdminLogin, "wrong-again", "192.0.2.66").error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  std::this_thread::sleep_for(std::chrono::seconds(delay) + std::chrono::milliseconds(300));
  auto later = Login(kAdminLogin, kAdminPassword, "192.0.2.10");
  EXPECT_TRUE(later.ok()) << "after the window admin logs in again: " << Describe(later);
}

TEST_F(AuthLoginFloodTest, SprayingFromOneAddressThrottlesThatAddressOnly) {
  CreateAccount("sprayed", "right-password-2");
  for (int i = 0; i < kMaxPerAddress; ++i) {
    EXPECT_EQ(Login("spray-" + std::to_string(i), "guess", "192.0.2.77").error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  auto from_sprayer = Login("sprayed", "right-password-2", "192.0.2.77");
  EXPECT_EQ(from_sprayer.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << Describe(from_sprayer);
  EXPECT_THAT(from_sprayer.error_message(), HasSubstr("address"));
  auto elsewhere = Login("sprayed", "right-password-2", "192.0.2.78");
  EXPECT_TRUE(elsewhere.ok()) << Describe(elsewhere);
  // The TCP peer is the address when no trusted header is sent.
  EXPECT_TRUE(Login("sprayed", "right-password-2").ok());
}

TEST_F(AuthLoginFloodTest, CountersOfEndedWindowsArePruned) {
  EXPECT_EQ(Login("prune-me", "guess", "192.0.2.99").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Failures("login:prune-me"), 1);
  std::this_thread::sleep_for(kWindow + std::chrono::seconds(1));
  // Any later attempt prunes (at most once per window).
  EXPECT_TRUE(Login(kAdminLogin, kAdminPassword, "192.0.2.100").ok());
  EXPECT_EQ(QueryInt(*db_url_, "SELECT count(*) FROM login_throttle WHERE key = 'login:prune-me'"),
            0);
}

}  // namespace
}  // namespace ates::test
