// TLS of the gRPC servers and of key fetching (issue 10 item 1, ADR 0014),
// with the real ates-auth and ates-tasks and certificates made by openssl
// (scripts/tls-certs.sh) in the test's folder: TLS verified against a CA, mTLS
// required, plaintext refused, a replaced certificate served without a
// restart, keys fetched from a TLS ates-auth, and the refresh on an unknown
// key id rate-limited.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "grpc/health/v1/health.grpc.pb.h"
#include "support/e2e_support.hpp"
#include "support/tasks_helpers.hpp"
#include "support/token_forge.hpp"
#include "support/wait.hpp"

namespace ates::test {
namespace {

namespace fs = std::filesystem;
using platform::ClientTls;
using ::testing::HasSubstr;

// Runs scripts/tls-certs.sh with `args`; false when it fails.
bool MakeCert(const std::string& dir, const std::string& args) {
  std::string cmd = SourcePath("scripts/tls-certs.sh") + " '" + dir + "' " + args;
  return std::system(cmd.c_str()) == 0;
}

// A health check on a fresh channel (no connection shared with earlier calls).
grpc::Status CheckHealth(const std::string& target, const ClientTls& tls) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto stub = grpc::health::v1::Health::NewStub(platform::CreateClientChannel(target, tls, args));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  return stub->Check(&ctx, req, &resp);
}

// GetPublicKeys calls ates-auth has answered, from its /metrics.
double KeyFetches(const std::string& metrics) {
  auto resp = e2e::HttpGet(metrics, "/metrics");
  if (resp.status != 200) return -1;
  auto prom = e2e::CheckPrometheusText(resp.body);
  double sum = 0;
  for (const auto& [labels, value] : prom.values["grpc_server_handled_total"]) {
    if (labels.find(R"(grpc_method="GetPublicKeys")") != std::string::npos) sum += value;
  }
  return sum;
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = TestStack::Get().dir() + "/tls";
    bool ok = MakeCert(dir_, "ca ca") && MakeCert(dir_, "ca other-ca") &&
              MakeCert(dir_, "server server ca") && MakeCert(dir_, "client client ca") &&
              MakeCert(dir_, "client rogue-client other-ca") &&
              MakeCert(dir_, "server reload-1 ca") && MakeCert(dir_, "server reload-2 other-ca");
    ASSERT_TRUE(ok) << "openssl could not make the test certificates in " << dir_;
    metrics_ = "127.0.0.1:" + std::to_string(FreePort());
    auth_ =
        new Daemon(WithTls(AuthDaemon("ates-auth-tls", TestStack::Get().CreateDatabase("tls_auth"),
                                      {{"ATES_GRPC_TLS_CERT", Path("server.pem")},
                                       {"ATES_GRPC_TLS_KEY", Path("server.key")},
                                       {"ATES_ADMIN_LISTEN", metrics_}}),
                           TrustCa()));
    ASSERT_NO_THROW(auth_->Start());
  }
  static void TearDownTestSuite() {
    delete auth_;
    auth_ = nullptr;
  }
  // `options`, with the test's own calls (readiness, channel()) made over `tls`.
  static DaemonOptions WithTls(DaemonOptions options, const ClientTls& tls) {
    options.tls = tls;
    return options;
  }
  static std::string Path(const std::string& name) { return dir_ + "/" + name; }
  static ClientTls TrustCa() { return WithCert("", "ca"); }
  static ClientTls TrustOtherCa() { return WithCert("", "other-ca"); }
  // Trusts `ca` and presents the certificate `name` (none when empty).
  static ClientTls WithCert(const std::string& name, const std::string& ca = "ca") {
    ClientTls tls;
    tls.ca = Path(ca + ".pem");
    if (!name.empty()) {
      tls.cert = Path(name + ".pem");
      tls.key = Path(name + ".key");
    }
    return tls;
  }

  // A login of the bootstrap admin over TLS.
  static std::string AdminToken() {
    auto stub = authv1::AuthService::NewStub(auth_->channel());
    Call call;
    authv1::LoginRequest req;
    req.set_login(kAdminLogin);
    req.set_password(kAdminPassword);
    authv1::LoginResponse resp;
    auto status = stub->Login(&call.ctx, req, &resp);
    EXPECT_TRUE(status.ok()) << Describe(status);
    return resp.access_token();
  }

  static inline std::string dir_;
  static inline std::string metrics_;
  static inline Daemon* auth_ = nullptr;
};

TEST_F(TlsTest, TlsServerAnswersClientsThatTrustItsCaAndRefusesOthersAndPlaintext) {
  EXPECT_TRUE(CheckHealth(auth_->target(), TrustCa()).ok());
  EXPECT_FALSE(AdminToken().empty());
  auto other_ca = CheckHealth(auth_->target(), TrustOtherCa());
  EXPECT_EQ(other_ca.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(other_ca);
  auto plaintext = CheckHealth(auth_->target(), ClientTls{});
  EXPECT_EQ(plaintext.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(plaintext);
}

TEST_F(TlsTest, WithClientCaOnlyClientsWithACertificateOfThatCaAreServed) {
  Daemon mtls(WithTls(AuthDaemon("ates-auth-mtls", TestStack::Get().CreateDatabase("tls_auth_mtls"),
                                 {{"ATES_GRPC_TLS_CERT", Path("server.pem")},
                                  {"ATES_GRPC_TLS_KEY", Path("server.key")},
                                  {"ATES_GRPC_TLS_CLIENT_CA", Path("ca.pem")}}),
                      WithCert("client")));
  ASSERT_NO_THROW(mtls.Start());

  EXPECT_TRUE(CheckHealth(mtls.target(), WithCert("client")).ok());
  auto no_cert = CheckHealth(mtls.target(), TrustCa());
  EXPECT_EQ(no_cert.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(no_cert);
  auto rogue = CheckHealth(mtls.target(), WithCert("rogue-client"));
  EXPECT_EQ(rogue.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(rogue);
  auto plaintext = CheckHealth(mtls.target(), ClientTls{});
  EXPECT_EQ(plaintext.error_code(), grpc::StatusCode::UNAVAILABLE) << Describe(plaintext);

  // A daemon fetches its verification keys over mTLS (ready = keys loaded).
  Daemon tasks(TasksDaemon("ates-tasks-mtls", TestStack::Get().CreateDatabase("tls_tasks_mtls"),
                           mtls.target(), "tls_tasks_mtls",
                           {{"ATES_AUTH_TLS_CA", Path("ca.pem")},
                            {"ATES_AUTH_TLS_CERT", Path("client.pem")},
                            {"ATES_AUTH_TLS_KEY", Path("client.key")}}));
  EXPECT_NO_THROW(tasks.Start());
}

TEST_F(TlsTest, UnreadableCertificateExitsTwoNamingTheKey) {
  Daemon auth(AuthDaemon(
      "ates-auth-bad-cert", TestStack::Get().CreateDatabase("tls_bad_cert"),
      {{"ATES_GRPC_TLS_CERT", Path("missing.pem")}, {"ATES_GRPC_TLS_KEY", Path("server.key")}}));
  auth.Spawn();
  EXPECT_EQ(auth.WaitExit(std::chrono::seconds(20)), 2);
  EXPECT_THAT(auth.Log(), HasSubstr("config key 'grpc.tls.cert': cannot read TLS file"));
}

TEST_F(TlsTest, DaemonFetchesKeysFromTlsAuthAndAcceptsItsTokens) {
  Daemon tasks(TasksDaemon("ates-tasks-tls", TestStack::Get().CreateDatabase("tls_tasks"),
                           auth_->target(), "tls_tasks", {{"ATES_AUTH_TLS_CA", Path("ca.pem")}}));
  ASSERT_NO_THROW(tasks.Start());
  auto stub = tasksv1::TaskService::NewStub(tasks.channel());
  Call call(AdminToken());
  tasksv1::ListTasksRequest req;
  tasksv1::ListTasksResponse resp;
  auto status = stub->ListTasks(&call.ctx, req, &resp);
  EXPECT_TRUE(status.ok()) << Describe(status);
}

TEST_F(TlsTest, DaemonThatTrustsAnotherCaGetsNoKeysFromAuth) {
  Daemon tasks(TasksDaemon("ates-tasks-wrong-ca", TestStack::Get().CreateDatabase("tls_wrong_ca"),
                           auth_->target(), "tls_wrong_ca",
                           {{"ATES_AUTH_TLS_CA", Path("other-ca.pem")}}));
  tasks.Spawn();
  ASSERT_TRUE(Eventually(
      [&] { return tasks.Log().find("cannot refresh verification keys") != std::string::npos; },
      std::chrono::seconds(20)))
      << tasks.Log();
  EXPECT_TRUE(tasks.Running());
  EXPECT_NE(tasks.HealthStatus("readiness"),
            static_cast<int>(grpc::health::v1::HealthCheckResponse::SERVING));
}

// atesctl with `flags` against the suite's TLS ates-auth; TLS from the
// environment when `env` says so (RunCli drops the test's own ATES_*).
e2e::CliResult Atesctl(const std::string& auth_target, std::vector<std::string> flags,
                       const std::string& stdin_text = "",
                       std::map<std::string, std::string> env = {}) {
  std::string home = TestStack::Get().dir() + "/atesctl-tls";
  fs::create_directories(home);
  std::vector<std::string> argv = {ATESCTL_BIN, "--auth", auth_target, "--token-file",
                                   home + "/token"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  env["HOME"] = home;
  return e2e::RunCli(argv, stdin_text, env);
}

TEST_F(TlsTest, AtesctlLogsInOverTlsAndRefusesAServerItDoesNotTrust) {
  auto login =
      Atesctl(auth_->target(),
              {"--tls-ca", Path("ca.pem"), "login", "--user", kAdminLogin, "--password-stdin"},
              std::string(kAdminPassword) + "\n");
  EXPECT_EQ(login.exit_code, 0) << login.out << login.err;
  auto health = Atesctl(auth_->target(), {"health", "auth"}, "", {{"ATES_TLS_CA", Path("ca.pem")}});
  EXPECT_EQ(health.exit_code, 0) << health.out << health.err;
  EXPECT_EQ(health.out, "SERVING\n");

  auto untrusted = Atesctl(auth_->target(), {"--tls-ca", Path("other-ca.pem"), "health", "auth"});
  EXPECT_EQ(untrusted.exit_code, 6) << untrusted.out << untrusted.err;
  auto plaintext = Atesctl(auth_->target(), {"health", "auth"});
  EXPECT_EQ(plaintext.exit_code, 6) << plaintext.out << plaintext.err;
  auto no_key = Atesctl(auth_->target(), {"--tls-ca", Path("ca.pem"), "--tls-cert",
                                          Path("client.pem"), "health", "auth"});
  EXPECT_EQ(no_key.exit_code, 2) << no_key.out << no_key.err;
}

// The live certificate is a symlinked folder swapped in one rename, as a
// Kubernetes Secret volume does, so key and certificate change together.
void ServeFrom(const fs::path& live, const fs::path& folder) {
  fs::path next = live.string() + ".next";
  fs::remove(next);
  fs::create_directory_symlink(folder, next);
  fs::rename(next, live);
}

fs::path CertFolder(const std::string& dir, const std::string& name) {
  fs::path folder = dir + "/" + name + ".d";
  fs::create_directories(folder);
  fs::copy_file(dir + "/" + name + ".pem", folder / "server.pem",
                fs::copy_options::overwrite_existing);
  fs::copy_file(dir + "/" + name + ".key", folder / "server.key",
                fs::copy_options::overwrite_existing);
  return folder;
}

TEST_F(TlsTest, ReplacedCertificateIsServedWithoutRestart) {
  fs::path live = dir_ + "/live";
  ServeFrom(live, CertFolder(dir_, "reload-1"));
  Daemon auth(WithTls(AuthDaemon("ates-auth-reload", TestStack::Get().CreateDatabase("tls_reload"),
                                 {{"ATES_GRPC_TLS_CERT", (live / "server.pem").string()},
                                  {"ATES_GRPC_TLS_KEY", (live / "server.key").string()},
                                  {"ATES_GRPC_TLS_RELOAD_INTERVAL", "1s"}}),
                      TrustCa()));
  ASSERT_NO_THROW(auth.Start());
  ASSERT_FALSE(CheckHealth(auth.target(), TrustOtherCa()).ok());

  ServeFrom(live, CertFolder(dir_, "reload-2"));
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(Eventually([&] { return CheckHealth(auth.target(), TrustOtherCa()).ok(); },
                         std::chrono::seconds(15)));
  auto took = std::chrono::steady_clock::now() - start;
  std::cout << "TLS-RELOAD new certificate served after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  EXPECT_FALSE(CheckHealth(auth.target(), TrustCa()).ok());
  EXPECT_TRUE(auth.Running());
}

TEST_F(TlsTest, RefreshOnUnknownKeyIdIsRateLimited) {
  Daemon tasks(TasksDaemon(
      "ates-tasks-kid", TestStack::Get().CreateDatabase("tls_kid"), auth_->target(), "tls_kid",
      {{"ATES_AUTH_TLS_CA", Path("ca.pem")}, {"ATES_AUTH_KEYS_REFRESH", "10m"}}));
  ASSERT_NO_THROW(tasks.Start());
  auto stub = tasksv1::TaskService::NewStub(tasks.channel());
  auto call_with_kid = [&](int n) {
    auto key = auth::SigningKey::Generate("unknown-" + std::to_string(n));
    auto token = MintToken(EdDsaHeader(key.kid),
                           ClaimsJson("ates-auth", "ates", "someone", "admin",
                                      std::chrono::system_clock::now() + std::chrono::hours(1)),
                           &key);
    Call call(token);
    tasksv1::ListTasksRequest req;
    tasksv1::ListTasksResponse resp;
    return stub->ListTasks(&call.ctx, req, &resp).error_code();
  };
  double before = KeyFetches(metrics_);
  ASSERT_GE(before, 1);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(call_with_kid(i), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(KeyFetches(metrics_) - before, 1) << "20 unknown kids within 5 s: one refresh";

  std::this_thread::sleep_for(std::chrono::milliseconds(5500));
  EXPECT_EQ(call_with_kid(100), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(KeyFetches(metrics_) - before, 2) << "5 s later: one more";
}

}  // namespace
}  // namespace ates::test
