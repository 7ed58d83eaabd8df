#include "gateway_overhead.hpp"

#include <curl/curl.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <vector>

#include "ates/auth/v1/auth_service.grpc.pb.h"

namespace ates::bench {
namespace {

using Clock = std::chrono::steady_clock;
namespace authv1 = ::ates::auth::v1;

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double P50(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// One keep-alive connection to the gateway, the same request every time.
class ConnectClient final {
 public:
  ConnectClient(const std::string& url, const std::string& token)
      : curl_(curl_easy_init()), url_(url + "/ates.auth.v1.AuthService/GetAccount") {
    headers_ = curl_slist_append(headers_, "Content-Type: application/json");
    headers_ = curl_slist_append(headers_, "Connect-Protocol-Version: 1");
    headers_ = curl_slist_append(headers_, ("Authorization: Bearer " + token).c_str());
    headers_ = curl_slist_append(headers_, "Expect:");
    curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Discard);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body_);
  }
  ~ConnectClient() {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }
  void Call() {
    if (curl_easy_perform(curl_) != CURLE_OK) throw std::runtime_error("gateway call failed");
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
      throw std::runtime_error("gateway GetAccount: HTTP " + std::to_string(status));
  }

 private:
  CURL* curl_;
  curl_slist* headers_ = nullptr;
  std::string url_;
  std::string body_;
};

void DirectCall(authv1::AuthService::Stub& stub, const std::string& token) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ctx.AddMetadata("authorization", "Bearer " + token);
  authv1::GetAccountResponse resp;
  auto st = stub.GetAccount(&ctx, authv1::GetAccountRequest(), &resp);
  if (!st.ok()) throw std::runtime_error("direct GetAccount: " + st.error_message());
}

}  // namespace

void BenchGatewayOverhead(const Settings& s, const std::string& auth_target,
                          const std::string& gateway_url, const std::string& token, int calls) {
  auto stub = authv1::AuthService::NewStub(
      grpc::CreateChannel(auth_target, grpc::InsecureChannelCredentials()));
  ConnectClient gateway(gateway_url, token);
  std::vector<double> direct_ms, gateway_ms;
  for (int i = 0; i < 100; ++i) {  // warm both paths up
    DirectCall(*stub, token);
    gateway.Call();
  }
  auto started = Clock::now();
  for (int i = 0; i < calls; ++i) {
    auto t0 = Clock::now();
    DirectCall(*stub, token);
    auto t1 = Clock::now();
    gateway.Call();
    direct_ms.push_back(Millis(t1 - t0));
    gateway_ms.push_back(Millis(Clock::now() - t1));
  }
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  double direct = P50(direct_ms), through = P50(gateway_ms);
  Report(s, "11-gateway-direct",
         "GetAccount straight over gRPC, one at a time (p50 " + std::to_string(direct) + " ms)",
         calls, "calls", seconds / 2);
  Report(s, "11-gateway-connect",
         "  the same through ates-gateway, Connect JSON, keep-alive (p50 " +
             std::to_string(through) + " ms)",
         calls, "calls", seconds / 2, Goal::Versus({"11-gateway-direct"}));
  Report(s, "11-gateway-added-p50", "  added by the gateway at p50 (as seconds)", 1, "p50",
         std::max(0.0, (through - direct) / 1000.0), Goal::MaxSeconds(0.001));
}

}  // namespace ates::bench
