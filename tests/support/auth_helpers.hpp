#pragma once
// Helpers shared by the integration tests that run the real ates-auth daemon.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ates/auth/v1/auth_service.grpc.pb.h"
#include "ates/events/accounts/v1/account_events.pb.h"
#include "ates/platform/pg.hpp"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "support/daemon.hpp"
#include "support/error_fields.hpp"
#include "support/js_client.hpp"
#include "support/test_stack.hpp"

#ifndef ATES_AUTH_BIN
#error "ATES_AUTH_BIN must be defined by the build"
#endif

namespace ates::test {

namespace authv1 = ::ates::auth::v1;
namespace accv1 = ::ates::events::accounts::v1;
using ::ates::common::v1::Role;

inline constexpr const char* kAdminLogin = "admin";
inline constexpr const char* kAdminPassword = "admin-password-1";

// An ates-auth daemon on `database_url` and the stack's NATS, with a first admin.
inline DaemonOptions AuthDaemon(const std::string& name, const std::string& database_url,
                                std::map<std::string, std::string> env = {}) {
  return SystemDaemon(name, "ates-auth", ATES_AUTH_BIN, database_url,
                      {{"ATES_BOOTSTRAP_ADMIN_LOGIN", kAdminLogin},
                       {"ATES_BOOTSTRAP_ADMIN_PASSWORD", kAdminPassword}},
                      env);
}

// A client context with a deadline and, when given, a bearer token.
struct Call {
  grpc::ClientContext ctx;
  explicit Call(const std::string& token = "",
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  }
};

inline std::string Describe(const grpc::Status& s) {
  return "code " + std::to_string(static_cast<int>(s.error_code())) + ": " + s.error_message();
}

// The account an ACCOUNTS stream message is about, "" when it does not decode.
inline std::string AccountIdOf(const StreamMessage& m) {
  if (m.subject == "accounts.account.created") {
    accv1::AccountCreated e;
    return e.ParseFromString(m.data) ? e.account().account_id() : "";
  }
  if (m.subject == "accounts.account.updated") {
    accv1::AccountUpdated e;
    return e.ParseFromString(m.data) ? e.account().account_id() : "";
  }
  if (m.subject == "accounts.account.role_changed") {
    accv1::AccountRoleChanged e;
    return e.ParseFromString(m.data) ? e.account_id() : "";
  }
  return "";
}

inline std::vector<StreamMessage> MessagesAbout(const std::vector<StreamMessage>& all,
                                                const std::string& account_id) {
  std::vector<StreamMessage> out;
  for (const auto& m : all) {
    if (AccountIdOf(m) == account_id) out.push_back(m);
  }
  return out;
}

inline int64_t QueryInt(const std::string& url, std::string_view sql,
                        const pg::Params& params = {}) {
  pg::Connection c(url);
  return c.Exec(sql, params).Int(0, 0);
}

inline authv1::CreateAccountRequest NewAccountRequest(
    const std::string& login, Role role = ::ates::common::v1::ROLE_WORKER,
    const std::string& password = "popug-pass-1") {
  authv1::CreateAccountRequest r;
  r.set_login(login);
  r.set_full_name("Popug " + login);
  r.set_email(login + "@example.com");
  r.set_role(role);
  r.set_password(password);
  return r;
}

}  // namespace ates::test
