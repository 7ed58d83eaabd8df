// What ates-gateway itself decides (ADR 0024): Connect error bodies with the
// daemons' details, the session cookie's flags and logout, the CSRF header
// guard, deadlines, the body limit, unknown methods, and the static web app
// with its security headers and no way out of its folder.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gateway_world.hpp"
#include "google/rpc/error_details.pb.h"

namespace ates::test {
namespace {

namespace tasksv1 = ::ates::tasks::v1;
namespace billv1 = ::ates::billing::v1;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

std::string Base64Decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    auto pos = kAlphabet.find(c);
    if (pos == std::string::npos) break;
    acc = (acc << 6) | static_cast<uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// The "value" of the first detail of a Connect error body.
std::string FirstDetailValue(const std::string& body) {
  auto at = body.find("\"value\":\"");
  if (at == std::string::npos) return "";
  at += 9;
  return body.substr(at, body.find('"', at) - at);
}

class GatewayRulesTest : public ::testing::Test {
 protected:
  GatewayWorld& world() { return GatewayWorld::Get(); }
  Gateway& gw() { return *world().gateway; }

  HttpAnswer Login(const std::string& login, const std::string& password) {
    HttpClient client(gw().url());
    return client.Post("/ates.auth.v1.AuthService/Login",
                       "{\"login\":\"" + login + "\",\"password\":\"" + password + "\"}",
                       {"Connect-Protocol-Version: 1", "Content-Type: application/json"});
  }
  std::string AdminSession() { return Gateway::SessionOf(Login(kAdminLogin, kAdminPassword)); }

  // Titles of every task (as the admin sees them).
  std::vector<std::string> Titles() {
    tasksv1::ListTasksRequest req;
    req.set_page_size(500);
    auto r = gw().Call<tasksv1::ListTasksResponse>("/ates.tasks.v1.TaskService/ListTasks", req,
                                                   Encoding::kJson, AdminSession());
    EXPECT_EQ(r.http.status, 200) << r.http.body;
    std::vector<std::string> titles;
    for (const auto& t : r.reply.tasks()) titles.push_back(t.title());
    return titles;
  }
};

TEST_F(GatewayRulesTest, LoginSetsAnHttpOnlyStrictCookieAndTheBodyHasNoToken) {
  auto r = Login(kAdminLogin, kAdminPassword);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string cookie = r.Header("set-cookie");
  std::string token = Gateway::SessionOf(r);
  ASSERT_GT(token.size(), 20u) << cookie;
  EXPECT_THAT(cookie, HasSubstr("; HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("; SameSite=Strict"));
  EXPECT_THAT(cookie, HasSubstr("; Path=/"));
  EXPECT_THAT(cookie, Not(HasSubstr("Secure"))) << "plain HTTP: no Secure flag";
  auto max_age = std::stoi(cookie.substr(cookie.find("Max-Age=") + 8));
  EXPECT_GT(max_age, 60);
  EXPECT_LE(max_age, 24 * 3600);
  EXPECT_THAT(r.body, Not(HasSubstr(token)));
  EXPECT_THAT(r.body, Not(HasSubstr("accessToken")));
  EXPECT_THAT(r.body, HasSubstr("\"login\":\"admin\""));
}

TEST_F(GatewayRulesTest, LogoutClearsTheCookie) {
  HttpClient client(gw().url());
  auto r = client.Post("/session/logout", "", {"Cookie: ates_session=" + AdminSession()});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string cookie = r.Header("set-cookie");
  EXPECT_THAT(cookie, HasSubstr("ates_session=;"));
  EXPECT_THAT(cookie, HasSubstr("Max-Age=0"));
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
}

TEST_F(GatewayRulesTest, BadTitleIsInvalidArgumentWithABadRequestOnTitleAndCreatesNothing) {
  HttpClient client(gw().url());
  auto r = client.Post("/ates.tasks.v1.TaskService/CreateTask",
                       "{\"title\":\"[GW-9] bracketed\",\"jiraId\":\"GW-9\"}",
                       {"Connect-Protocol-Version: 1", "Content-Type: application/json",
                        "Cookie: ates_session=" + AdminSession()});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_THAT(r.body, HasSubstr("\"code\":\"invalid_argument\""));
  EXPECT_THAT(r.body, HasSubstr("\"type\":\"google.rpc.BadRequest\""));
  std::string value = FirstDetailValue(r.body);
  EXPECT_EQ(value.find('='), std::string::npos) << "Connect base64 has no padding";
  google::rpc::BadRequest bad;
  ASSERT_TRUE(bad.ParseFromString(Base64Decode(value))) << r.body;
  ASSERT_GT(bad.field_violations_size(), 0);
  EXPECT_EQ(bad.field_violations(0).field(), "title");
  EXPECT_THAT(Titles(), Not(::testing::Contains("[GW-9] bracketed")));
}

TEST_F(GatewayRulesTest, ACallWithoutASessionIsUnauthenticated401) {
  tasksv1::ListTasksRequest req;
  auto r = gw().Call<tasksv1::ListTasksResponse>("/ates.tasks.v1.TaskService/ListTasks", req,
                                                 Encoding::kJson);
  EXPECT_EQ(r.http.status, 401);
  EXPECT_THAT(r.http.body, HasSubstr("\"code\":\"unauthenticated\""));
}

TEST_F(GatewayRulesTest, AWorkerAskingTheAdminsBalanceGetsTheDaemonsPermissionDenied) {
  std::string worker = Gateway::SessionOf(Login(kWorkerLogin, kWorkerPassword));
  billv1::GetBalanceRequest req;
  req.set_account_id(world().system->admin_id);
  auto r = gw().Call<billv1::GetBalanceResponse>("/ates.billing.v1.BillingService/GetBalance", req,
                                                 Encoding::kJson, worker);
  EXPECT_EQ(r.http.status, 403);
  EXPECT_THAT(r.http.body, HasSubstr("\"code\":\"permission_denied\""));
}

TEST_F(GatewayRulesTest, AnAuthorizationHeaderWorksWithoutACookie) {
  HttpClient client(gw().url());
  auto r = client.Post("/ates.auth.v1.AuthService/GetAccount",
                       "{\"accountId\":\"" + world().worker_id + "\"}",
                       {"Connect-Protocol-Version: 1", "Content-Type: application/json",
                        "Authorization: Bearer " + world().system->admin_token});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("\"login\":\"gw-worker\""));
}

TEST_F(GatewayRulesTest, WithoutTheConnectProtocolHeaderAPostIsRefusedAndChangesNothing) {
  HttpClient client(gw().url());
  auto r = client.Post(
      "/ates.tasks.v1.TaskService/CreateTask", "{\"title\":\"CSRF task\",\"jiraId\":\"GW-10\"}",
      {"Content-Type: application/json", "Cookie: ates_session=" + AdminSession()});
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("Connect-Protocol-Version"));
  EXPECT_THAT(Titles(), Not(::testing::Contains("CSRF task")));
}

TEST_F(GatewayRulesTest, AnUnknownMethodIsUnimplemented404) {
  HttpClient client(gw().url());
  auto r = client.Post("/ates.tasks.v1.TaskService/DeleteEverything", "{}",
                       {"Connect-Protocol-Version: 1", "Content-Type: application/json"});
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr("\"code\":\"unimplemented\""));
  auto ops = client.Post("/ates.ops.v1.DeadLetterService/ListDeadLetters", "{}",
                         {"Connect-Protocol-Version: 1", "Content-Type: application/json"});
  EXPECT_EQ(ops.status, 404) << "operator services are not public";
}

TEST_F(GatewayRulesTest, ConnectTimeoutCountsFromArrivalAndExpiresAsDeadlineExceeded) {
  std::string body = "{\"title\":\"Late task\",\"jiraId\":\"GW-11\"}";
  std::string head =
      "POST /ates.tasks.v1.TaskService/CreateTask HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\nConnection: close\r\n"
      "Content-Type: application/json\r\nConnect-Protocol-Version: 1\r\n"
      "Connect-Timeout-Ms: 50\r\nCookie: ates_session=" +
      AdminSession() + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  // The body arrives after the 50 ms have passed.
  std::string answer = RawExchange(gw().http_port(), head, std::chrono::milliseconds(300), body);
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 504"));
  EXPECT_THAT(answer, HasSubstr("\"code\":\"deadline_exceeded\""));
  EXPECT_THAT(Titles(), Not(::testing::Contains("Late task")));
}

TEST_F(GatewayRulesTest, ABodyOverTheLimitIsRefusedWithoutCallingUpstream) {
  std::string big = "{\"title\":\"Huge task\",\"jiraId\":\"GW-12\",\"description\":\"" +
                    std::string(1536 * 1024, 'x') + "\"}";
  HttpClient client(gw().url());
  auto r = client.Post("/ates.tasks.v1.TaskService/CreateTask", big,
                       {"Connect-Protocol-Version: 1", "Content-Type: application/json",
                        "Cookie: ates_session=" + AdminSession()});
  EXPECT_EQ(r.status, 413);
  EXPECT_THAT(r.body, HasSubstr("\"code\":\"resource_exhausted\""));
  EXPECT_THAT(Titles(), Not(::testing::Contains("Huge task")));
}

TEST_F(GatewayRulesTest, TheWebAppIsServedWithTheSecurityHeaders) {
  HttpClient client(gw().url());
  auto index = client.Get("/");
  ASSERT_EQ(index.status, 200);
  EXPECT_THAT(index.body, HasSubstr("aTES test app"));
  EXPECT_EQ(index.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.Header("content-security-policy"), kCsp);
  EXPECT_EQ(index.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(index.Header("referrer-policy"), "no-referrer");
  EXPECT_EQ(index.Header("x-frame-options"), "DENY");
  auto script = client.Get("/assets/app-1234.js");
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(script.Header("content-security-policy"), kCsp);
  auto page = client.Get("/tasks/some-page");
  EXPECT_EQ(page.status, 200) << "client-side routes get index.html";
  EXPECT_THAT(page.body, HasSubstr("aTES test app"));
  EXPECT_EQ(client.Get("/assets/missing.js").status, 404);
  auto folder = client.Get("/assets/");
  EXPECT_THAT(folder.body, Not(HasSubstr("app-1234.js"))) << "no directory listing";
}

TEST_F(GatewayRulesTest, PathsOutOfTheWebRootAreRefused) {
  for (const char* path : {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                           "/assets/..%2f..%2fsecret.txt"}) {
    std::string answer = RawExchange(
        gw().http_port(),
        std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        std::chrono::milliseconds(0), "");
    EXPECT_THAT(answer, Not(HasSubstr("not for the web"))) << path;
    EXPECT_THAT(answer, ::testing::AnyOf(HasSubstr("HTTP/1.1 400"), HasSubstr("HTTP/1.1 404")))
        << path << "\n"
        << answer.substr(0, 200);
  }
}

TEST_F(GatewayRulesTest, MetricsCountRequestsByMethodPathAndConnectCode) {
  HttpClient client(gw().url());
  client.Post("/ates.tasks.v1.TaskService/ListTasks", "{}",
              {"Connect-Protocol-Version: 1", "Content-Type: application/json"});
  auto text = e2e::HttpGet(world().metrics_listen, "/metrics");
  ASSERT_EQ(text.status, 200) << text.error;
  auto check = e2e::CheckPrometheusText(text.body);
  EXPECT_TRUE(check.errors.empty()) << ::testing::PrintToString(check.errors);
  EXPECT_THAT(text.body, HasSubstr("ates_http_requests_total{code=\"unauthenticated\","
                                   "path=\"/ates.tasks.v1.TaskService/ListTasks\"}"));
  EXPECT_GT(check.Sum("ates_http_request_duration_seconds_count"), 0);
}

// Stateless (ADR 0018 amended by 0024): no database, NATS or token keys at all.
TEST_F(GatewayRulesTest, TheGatewayHasNoDatabaseOrNatsKeys) {
  auto r = e2e::RunCli({ATES_GATEWAY_BIN, "--print-config"}, "", {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("gateway.listen"));
  EXPECT_THAT(r.out, HasSubstr("gateway.upstreams.billing"));
  EXPECT_THAT(r.out, Not(HasSubstr("database.url")));
  EXPECT_THAT(r.out, Not(HasSubstr("nats.url")));
  EXPECT_THAT(r.out, Not(HasSubstr("auth.keys_url")));
}

}  // namespace
}  // namespace ates::test
