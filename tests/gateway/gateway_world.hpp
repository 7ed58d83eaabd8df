#pragma once
// One system for the whole binary: the five daemons, a gateway in front, a
// worker that every task goes to (the other accounts the suites create are
// managers, whom tasks are never assigned to). Built on first use, torn down
// by a gtest environment before the test stack stops.

#include <memory>
#include <string>

#include "gateway_fixture.hpp"
#include "support/e2e_support.hpp"

namespace ates::test {

inline constexpr const char* kWorkerLogin = "gw-worker";
inline constexpr const char* kWorkerPassword = "popug-pass-1";

struct GatewayWorld {
  std::unique_ptr<SystemUnderTest> system;
  std::unique_ptr<Gateway> gateway;
  std::string worker_id;
  std::string today;
  std::string metrics_listen;  // the gateway's /metrics

  GatewayWorld() {
    system = std::make_unique<SystemUnderTest>("gw");
    metrics_listen = "127.0.0.1:" + std::to_string(FreePort());
    gateway = std::make_unique<Gateway>(
        *system, std::map<std::string, std::string>{{"ATES_ADMIN_LISTEN", metrics_listen}});
    today = e2e::UtcDate(std::chrono::system_clock::now());
    auto auth = system->Auth();
    Call c(system->admin_token);
    authv1::CreateAccountResponse resp;
    auto s = auth->CreateAccount(&c.ctx, NewAccountRequest(kWorkerLogin), &resp);
    if (!s.ok()) throw std::runtime_error("create worker: " + s.error_message());
    worker_id = resp.account().id();
    // Tasks are assigned among the accounts ates-tasks knows.
    const auto& tasks_db = system->db.at("ates-tasks");
    if (!Eventually([&] {
          return QueryInt(tasks_db, "SELECT count(*) FROM accounts_replica WHERE id = $1::uuid",
                          {pg::Text(worker_id)}) == 1;
        })) {
      throw std::runtime_error("ates-tasks never learnt the worker");
    }
  }

  static GatewayWorld& Get();
};

}  // namespace ates::test
